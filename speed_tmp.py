import sys, time
from spikevec.hw.config import preset
from spikevec.sw.asm import assemble
from spikevec.sim.rtl.soc_sim import run_program
cfg = preset(sys.argv[1])
progs = {"long loop": assemble("li t0, 2000000\nloop: addi a0, a0, 1\n addi t0, t0, -1\n bnez t0, loop\n ecall\n", cfg, "loop.s")}
if cfg.name == "default":
    progs["vector_demo"] = assemble(open("/work/main/sw/examples/vector_demo.s").read(), cfg, "vector_demo.s")
for name, p in progs.items():
    for lockstep in (False, True) if name == "vector_demo" else (False,):
        r = run_program(p, lockstep=lockstep)
        print(f"{name} lockstep={lockstep}: {r.clock_cycles} clock cycles, model cycles {r.status['cycles']}, "
              f"{r.data['run_wall_seconds']:.2f} s run, {r.cycles_per_second:,.0f} cycles/s, wall {r.wall_seconds:.1f} s")
