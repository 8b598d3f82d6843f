"""spikevec.sw.compiler"""
