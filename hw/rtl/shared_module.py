"""Synthesise a repeated component once: hierarchical synthesis of identical instances.

The 32 lanes of the default core are 32 copies of one :class:`VectorLane`. Elaborated
normally, Amaranth emits one RTLIL module per copy, Yosys flattens them and then
optimises and maps the same logic 32 times (three quarters of a 32-lane synthesis).
When a build platform carries a :class:`SharedModules` registry (see
:func:`shared_modules`), a parent instead places each copy as an ``Instance`` of one
named module (:meth:`SharedModules.instance`); the build converts that module once
(:meth:`SharedModules.rtlil`), reads it beside the top design, keeps it as a hierarchy
boundary through synthesis and flattens the mapped netlist afterwards (see
``hw/boards/flow.py``). Simulation, Verilator and tests never pass a registry, so they
elaborate every copy as usual.

Contract: the instances connect the component's own port signals (its signature,
flattened, ``__``-joined names, the same names ``amaranth.back.rtlil.convert`` gives the
module's ports) plus ``clk``/``rst`` of the ``sync`` domain. The component must use no
other clock domain, the parent's ``sync`` domain must have a synchronous reset (as the
module converted alone assumes; BoardTop's does), and every copy registered under one
name must be built from the same ``key`` (its parameters): the registry converts the
first copy only.
"""
from amaranth.back import rtlil
from amaranth.hdl import ClockSignal, Instance, ResetSignal
from amaranth.lib import wiring

__all__ = ["SharedModules", "shared_modules"]

#: The platform attribute that carries the registry.
ATTRIBUTE = "spikevec_shared_modules"


def shared_modules(platform):
    """The :class:`SharedModules` registry of ``platform``, or ``None`` (elaborate every
    copy: simulation, or a build that does not synthesise hierarchically)."""
    return getattr(platform, ATTRIBUTE, None)


class SharedModules:
    """Components to synthesise once, by module name (see the module docstring)."""

    def __init__(self):
        self._modules = {}     # name -> (key, prototype component)

    def attach(self, platform) -> "SharedModules":
        """Make this the registry that components elaborated for ``platform`` use."""
        setattr(platform, ATTRIBUTE, self)
        return self

    def instance(self, component: wiring.Component, name: str, key) -> Instance:
        """An ``Instance`` of module ``name`` wired to ``component``'s ports. The first
        component registered under ``name`` is the one :meth:`rtlil` converts; a later
        one must have the same ``key``. ``component`` itself is never elaborated."""
        # The copy is replaced by the instance: it and its memories are never
        # elaborated, which Amaranth would otherwise report as unused.
        _silence_unused(component)
        if name in self._modules:
            known_key, _ = self._modules[name]
            if known_key != key:
                raise ValueError(f"Module {name!r} is already registered for {known_key!r}; "
                                 f"a copy built for {key!r} needs its own module name.")
        else:
            self._modules[name] = (key, component)
        ports = {"i_clk": ClockSignal("sync"), "i_rst": ResetSignal("sync")}
        for path, member, value in component.signature.flatten(component):
            port = "__".join(str(part) for part in path)
            ports[("i_" if member.flow == wiring.In else "o_") + port] = value
        return Instance(name, **ports)

    @property
    def components(self) -> dict:
        """{module name: the component it is converted from}, in registration order."""
        return {name: component for name, (_, component) in self._modules.items()}

    def rtlil(self, platform=None) -> dict[str, str]:
        """{module name: RTLIL text} of every registered module, elaborated for
        ``platform`` (so platform-specific primitives match the top design's)."""
        return {name: rtlil.convert(component, name=name, platform=platform)
                for name, component in self.components.items()}


def _silence_unused(component) -> None:
    # Amaranth warns when an Elaboratable is garbage-collected without having been
    # elaborated (amaranth._unused.MustUse); these copies are deliberately replaced.
    for obj in (component, *vars(component).values()):
        if hasattr(obj, "_MustUse__used"):
            obj._MustUse__silence = True
