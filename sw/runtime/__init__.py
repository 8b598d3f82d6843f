"""spikevec.sw.runtime"""
