"""CoreConfig: validation messages, presets, serialisation, fingerprints and the
compatibility check that keeps programs off cores they were not compiled for."""
from __future__ import annotations

import dataclasses
import json

import pytest

from spikevec.hw.config import PRESETS, ConfigMismatch, CoreConfig, preset

# (field, bad value, text the message must contain besides the field and the value)
BAD_FIELDS = [
    ("lanes", 12, "8, 16, 32"),
    ("lanes", 64, "8, 16, 32"),
    ("element_width", 8, "16-bit"),
    ("vector_registers", 16, "32"),
    ("imem_bytes", 0, "positive multiple of 4"),
    ("imem_bytes", 4098, "positive multiple of 4"),
    ("dmem_bytes", -4, "positive multiple of 4"),
    ("dmem_bytes", "4096", "of type int"),
    ("lanes", 16.0, "of type int"),
    ("stochastic_rounding", 1, "of type bool"),
    ("vmem_bytes", 1000, "positive multiple of 64"),
    ("lane_mem_bytes", 3, "positive multiple of 2"),
    ("lane_mem_bytes", 131072, "65536"),
    ("clock_hz", 0, "positive frequency"),
]


@pytest.mark.parametrize("field,value,allowed", BAD_FIELDS,
                         ids=[f"{f}={v!r}" for f, v, _ in BAD_FIELDS])
def test_bad_field_is_named_with_value_and_allowed_values(field, value, allowed):
    with pytest.raises(ValueError) as err:
        CoreConfig(**{field: value})
    msg = str(err.value)
    assert f"CoreConfig.{field} = {value!r}" in msg, msg
    assert allowed in msg and msg.endswith("."), msg


def test_vmem_alignment_follows_the_lane_count():
    CoreConfig(lanes=8, vmem_bytes=16 * 3)            # a multiple of 16-byte vectors
    with pytest.raises(ValueError, match="multiple of 32"):
        CoreConfig(lanes=16, vmem_bytes=16 * 3)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_are_valid_and_named(name):
    cfg = preset(name)
    assert cfg is PRESETS[name] and cfg.name == name
    assert cfg.vector_bytes == cfg.lanes * 2
    assert cfg.vmem_vectors * cfg.vector_bytes == cfg.vmem_bytes
    assert cfg.lane_mem_elements * 2 == cfg.lane_mem_bytes
    assert cfg.imem_words * 4 == cfg.imem_bytes
    assert CoreConfig(**cfg.to_dict()) == cfg


def test_presets_cover_every_lane_count():
    assert {c.lanes for c in PRESETS.values()} == {8, 16, 32}
    assert preset("default") == CoreConfig(name="default")


def test_unknown_preset_lists_the_choices():
    with pytest.raises(ValueError) as err:
        preset("huge")
    msg = str(err.value)
    assert "'huge'" in msg and all(name in msg for name in PRESETS)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_dict_round_trip_through_json(name):
    cfg = PRESETS[name]
    d = json.loads(json.dumps(cfg.to_dict()))
    assert CoreConfig.from_dict(d) == cfg
    assert set(d) == {f.name for f in dataclasses.fields(CoreConfig)}


def test_from_dict_rejects_unknown_keys_by_name():
    d = dict(PRESETS["default"].to_dict(), lane_count=4, turbo=True)
    with pytest.raises(ValueError) as err:
        CoreConfig.from_dict(d)
    msg = str(err.value)
    assert "lane_count" in msg and "turbo" in msg and "lanes" in msg


def test_from_dict_validates_values():
    with pytest.raises(ValueError, match="CoreConfig.lanes = 7"):
        CoreConfig.from_dict(dict(PRESETS["default"].to_dict(), lanes=7))


def test_config_is_frozen_and_hashable():
    cfg = PRESETS["default"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.lanes = 8
    assert len({cfg, CoreConfig(name="default")}) == 1
    assert cfg.with_(lanes=16, vmem_bytes=128 * 1024) != cfg


def test_fingerprint_is_stable():
    cfg = PRESETS["default"]
    fp = cfg.fingerprint()
    assert len(fp) == 16 and int(fp, 16) >= 0
    assert fp == CoreConfig(name="default").fingerprint()
    assert fp == CoreConfig.from_dict(cfg.to_dict()).fingerprint()
    # The name does not change the hardware.
    assert cfg.with_(name="renamed").fingerprint() == fp
    # Pinned: program images store fingerprints, so the hash of a configuration must not
    # change between releases. If this fails after adding a CoreConfig field, old images
    # become incompatible: bump the program format version and update this value.
    assert fp == PINNED_DEFAULT_FINGERPRINT


PINNED_DEFAULT_FINGERPRINT = "f044fc875f552dc7"


@pytest.mark.parametrize("field,value", [("lanes", 16), ("clock_hz", 50_000_000),
                                         ("stochastic_rounding", False),
                                         ("lane_mem_bytes", 1024)])
def test_fingerprint_changes_with_every_hardware_field(field, value):
    base = PRESETS["default"]
    changes = {field: value}
    if field == "lanes":
        changes["vmem_bytes"] = 128 * 1024
    assert base.with_(**changes).fingerprint() != base.fingerprint()


def test_check_compatible_accepts_same_hardware_under_another_name():
    PRESETS["default"].check_compatible(PRESETS["default"].with_(name="other"))


def test_check_compatible_names_every_differing_field():
    core = PRESETS["default"]
    image = PRESETS["lanes16"]
    with pytest.raises(ConfigMismatch) as err:
        core.check_compatible(image, what="program image")
    msg = str(err.value)
    assert isinstance(err.value, ValueError)
    assert "'lanes16'" in msg and "'default'" in msg
    assert "lanes: program image wants 16, core has 32" in msg
    assert "vmem_bytes: program image wants 131072, core has 262144" in msg
    assert "name:" not in msg and "imem_bytes" not in msg
    assert "Recompile" in msg and msg.endswith(".")


def test_check_compatible_ignores_the_clock():
    board = PRESETS["default"].with_(clock_hz=20_000_000, name="ulx3s-85f")
    board.check_compatible(PRESETS["default"])
    with pytest.raises(ConfigMismatch, match="lanes"):
        board.check_compatible(PRESETS["lanes16"])
