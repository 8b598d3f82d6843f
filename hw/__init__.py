"""spikevec.hw"""
