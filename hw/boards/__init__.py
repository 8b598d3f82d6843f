"""Board support: UART, PLL, board top level, board catalog and the open FPGA build
flow (yowasp Yosys + nextpnr + packer) behind ``spikevec build`` and ``spikevec program``.
"""
