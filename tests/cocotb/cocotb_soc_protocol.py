"""cocotb tests of the SoC's host path (HostPort -> HostRouter -> core) through the byte
streams, run by tests/test_soc.py. Params: ``program`` (an endless-loop .svp)."""
import cocotb

from spikevec.hw.rtl.host_protocol import (Command, ProtocolError, Space, Status,
                                           decode_response, encode_request)
from spikevec.sim.rtl.cocotb_soc import StreamTransport
from spikevec.sim.rtl.cocotb_support import cycles, params, record, reset, start_clock
from spikevec.sim.rtl.soc_client import AsyncSocClient
from spikevec.sw.asm.program import Program


async def _raw(transport, frame):
    await transport.send(frame)
    head = await transport.receive(5)
    return decode_response(head + await transport.receive((head[3] | head[4] << 8) + 1))


@cocotb.test()
async def test_host_path(dut):
    program = Program.load(params()["program"])
    config = program.config
    clock = start_clock(dut.clk)
    transport = StreamTransport(dut, clock)
    await reset(dut, clock)
    client = AsyncSocClient(transport)
    await client.ping()
    identity = await client.identify()
    identity.check(config)

    # Memory round trips while stopped.
    data = bytes((7 * i + 3) & 0xFF for i in range(1500))
    await client.write(Space.DMEM, 64, data[:1500 - 1500 % 4])
    assert await client.read(Space.DMEM, 64, 1496) == data[:1496]
    await client.write(Space.IMEM, 0x100, bytes(range(32)))
    assert await client.read(Space.IMEM, 0x100, 32) == bytes(range(32))
    assert await client.read(Space.XREG, 0, 128) == bytes(128)     # never ran: zeros
    status = await client.status()
    assert not status.running and not status.halted
    window = await client.read(Space.STATUS, 0, 36)
    assert window == status.to_bytes()

    # Errors change nothing.
    r = await _raw(transport, encode_request(Command.READ, 9, space=9, address=0, count=4))
    assert r.status == Status.BAD_SPACE
    r = await _raw(transport, encode_request(Command.READ, 10, space=Space.DMEM,
                                             address=config.dmem_bytes - 4, count=8))
    assert r.status == Status.BAD_ADDRESS

    # Run an endless loop: halted-only spaces answer BUSY, counters advance.
    await client.load_program(program)
    await client.start(0)
    first = await client.status()
    await cycles(clock, 500)
    second = await client.status()
    assert first.running and second.running and second.cycles > first.cycles + 400
    r = await _raw(transport, encode_request(Command.WRITE, 11, space=Space.IMEM,
                                             address=0, data=bytes(4)))
    assert r.status == Status.BUSY
    r = await _raw(transport, encode_request(Command.START, 12, pc=0))
    assert r.status == Status.BUSY
    # Live spaces while running: DMEM, VMEM and LMEM answer (own RAM ports).
    assert await client.read(Space.DMEM, 64, 16) == data[:16]
    await client.write(Space.VMEM, 0, bytes(range(16)))
    assert await client.read(Space.VMEM, 0, 16) == bytes(range(16))
    r = await _raw(transport, encode_request(Command.READ, 13, space=Space.XREG,
                                             address=0, count=4))
    assert r.status == Status.BUSY
    # HALT stops the loop at an instruction boundary: cause NONE, pc inside the loop.
    await client.halt()
    after = await client.status()
    assert not after.running and after.halted and after.cause == 0, after
    assert after.pc in (0, 4) and after.instret > 100, after
    x = await client.read(Space.XREG, 0, 128)
    a0 = int.from_bytes(x[40:44], "little")
    assert a0 > 50, a0                   # the loop's counter (x10), read back
    # Host XREG writes reach the register file; START resumes at the given pc.
    await client.write(Space.XREG, 4 * 10, (1000).to_bytes(4, "little"))
    await client.write(Space.XREG, 0, (5).to_bytes(4, "little"))      # x0: ignored
    x = await client.read(Space.XREG, 0, 44)
    assert x[:4] == bytes(4) and int.from_bytes(x[40:44], "little") == 1000
    await client.start(4)               # the "j loop" word: the loop goes on from there
    await cycles(clock, 200)
    await client.halt()
    again = await client.status()
    a0_again = int.from_bytes((await client.read(Space.XREG, 40, 4)), "little")
    assert again.halted and again.cause == 0 and a0_again > 1000, (again, a0_again)
    record(halt_stops_core=True, running_after_halt=after.running, halt_pc=after.pc,
           resumed_a0=a0_again)
