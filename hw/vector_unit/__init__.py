"""spikevec.hw.vector_unit"""
