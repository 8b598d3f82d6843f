"""spikevec.sw"""
