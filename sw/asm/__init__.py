"""spikevec.sw.asm"""
