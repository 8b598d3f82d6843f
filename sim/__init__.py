"""spikevec.sim"""
