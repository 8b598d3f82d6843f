"""spikevec.hw.rtl"""
