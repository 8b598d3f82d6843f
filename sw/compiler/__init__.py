"""spikevec.sw.compiler: the compiler front end.

* :mod:`.model`: build a :class:`Network` of populations, sources and dense projections;
* :mod:`.neurons`: the neuron model library and :class:`ModelBuilder` for new models;
* :mod:`.expr`: the symbolic expressions neuron updates are written in;
* :mod:`.reference`: the float reference simulator, which defines the discretisation;
* :mod:`.nir_import`: :func:`from_nir` and :func:`to_nir`;
* :mod:`.datasets`: data loaders and spike encoders;
* back end: :mod:`.fixedpoint` (formats), :mod:`.lower`, :mod:`.regalloc`,
  :mod:`.codegen` (+ :mod:`.codegen_update`), :mod:`.layout`, :mod:`.image`,
  :func:`compile_network` (:mod:`.build`) and :func:`run_iss` (golden-model runner).

Nothing here imports torch; ``nir``, ``h5py``, scikit-learn and mlxtend are imported only
when a function needs them.
"""
from .expr import CompileError, Expr, const, eq, maximum, minimum, ne, where
from .model import (READOUT_MODES, Network, PoissonSource, Population, Projection,
                    Readout, SpikeInput)
from .neurons import ModelBuilder, NeuronModel, alif, cuba_li, cuba_lif, if_, li, lif
from .nir_import import from_nir, to_nir
from .reference import Result, simulate
from .build import compile_network, effective_network
from .image import Image
from .run_iss import run_iss

__all__ = [
    "CompileError", "Expr", "const", "eq", "ne", "where", "minimum", "maximum",
    "Network", "Population", "SpikeInput", "PoissonSource", "Projection", "Readout",
    "READOUT_MODES", "ModelBuilder", "NeuronModel", "lif", "alif", "cuba_lif", "li",
    "cuba_li", "if_", "simulate", "Result", "from_nir", "to_nir",
    "compile_network", "effective_network", "Image", "run_iss",
]
