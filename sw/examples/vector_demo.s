# vector_demo.s - 32 leaky integrate-and-fire neurons, 16 time steps, on spikevec.
#
# Every neuron i receives a constant input current I[i] = 8 + 2*i (Q8.8 fixed point,
# 1.0 = 256) and updates, once per step:
#
#     v = 0.9 * v          (vmul with STOCHASTIC rounding: vmul.rs.sat, Q1.15 factor)
#     v = v + I[i]         (saturating)
#     spike if v >= 1.0    (vtge gives a bit mask, bit i = neuron i)
#     v = 0 where spiked   (vsel with the mask)
#
# The steady state of v is 10 * I[i], so neurons 0..8 (10*I < 256) can never fire,
# 9..11 approach the threshold too slowly to fire within 16 steps, and above that the
# firing rate grows with i: a recognisable "rate code" staircase. Results:
#
#   .data  masks  - one 32-bit spike mask per step (per vector of neurons)
#          total  - total number of spikes (also returned in a0 at the ecall)
#   .vdata counts - spikes per neuron (int16), v_mem - final membrane potentials
#
# Expected result (a plain-Python model of the ISA text and the golden model agree):
# a0 = total = 37 spikes; neurons 0..11 stay silent, 12..18 fire once, 19..27 twice and
# 28..31 three times; the first spikes are at step 4 (neurons 28..31). The program works
# for 8, 16 and 32 lanes (it loops over 64 / __vector_bytes vectors of neurons); the
# golden model gives 37 spikes for every preset (the random streams may in principle
# differ with the lane count, since the generators step once per vmul.rs).

        .equ STEPS, 16
        .equ NEURONS, 32
        .equ THRESHOLD, 256             # 1.0 in Q8.8
        .equ ALPHA, 29491               # 0.9 in Q1.15
        .equ LANE_MASK, (1 << __lanes) - 1

        .vdata
        .balign 64                      # vector aligned for every lane count
current:                                # I[i] = 8 + 2*i
        .half 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38
        .half 40, 42, 44, 46, 48, 50, 52, 54, 56, 58, 60, 62, 64, 66, 68, 70
v_mem:  .zero 2 * NEURONS               # membrane potentials, start at 0
counts: .zero 2 * NEURONS               # spikes per neuron
seed0:  .half 0x1234, 0xb06b, 0x4ea2, 0xecd9, 0x8b10, 0x2947, 0xc77e, 0x65b5
        .half 0x03ec, 0xa223, 0x405a, 0xde91, 0x7cc8, 0x1aff, 0xb936, 0x576d
        .half 0xf5a4, 0x93db, 0x3212, 0xd049, 0x6e80, 0x0cb7, 0xaaee, 0x4925
        .half 0xe75c, 0x8593, 0x23ca, 0xc201, 0x6038, 0xfe6f, 0x9ca6, 0x3add
seed1:  .half 0xbeef, 0x82b5, 0xc65b, 0x0be1, 0x4f87, 0x932d, 0xd4f3, 0x1899
        .half 0x5c3f, 0xa1c5, 0xe56b, 0x2931, 0x6ad7, 0xae7d, 0xf203, 0x37a9
        .half 0x7b4f, 0xbf15, 0x80bb, 0xc441, 0x09e7, 0x4d8d, 0x9153, 0xd2f9
        .half 0x169f, 0x5a25, 0x9fcb, 0xe391, 0x2737, 0x68dd, 0xac63, 0xf009

        .data
masks:  .zero 4 * STEPS * NEURONS * 2 / __vector_bytes
total:  .word 0

        .text
main:
        # Seed the per-lane generators (one vector of seeds; lanes share nothing).
        vload   v1, seed0(zero)
        vload   v2, seed1(zero)
        vseed   v1, v2
        vlui    v10, ALPHA              # decay factor
        vlui    v11, THRESHOLD
        vlui    v12, 1                  # "one spike"
        vzero   v13                     # reset potential
        li      s0, 0                   # s0: time step
        la      s3, masks               # s3: where the next spike mask goes
        li      s4, 0                   # s4: total spikes
        li      s5, LANE_MASK           # keeps only the bits of real lanes

step_loop:
        li      s1, 0                   # s1: byte offset of the current neuron vector
group_loop:
        vload   v1, v_mem(s1)           # v
        vload   v2, current(s1)         # I
        vload   v3, counts(s1)
        vmul.rs.sat v1, v1, v10, 15     # v = 0.9 v, stochastically rounded
        vadd.sat v1, v1, v2             # v += I
        vtge    t0, v1, v11             # t0 = spike mask of this vector of neurons
        and     t0, t0, s5
        vsel    v1, t0, v13             # reset the neurons that spiked
        vzero   v4
        vsel    v4, t0, v12             # 1 where a neuron spiked, else 0
        vadd    v3, v3, v4
        vstore  v1, v_mem(s1)
        vstore  v3, counts(s1)
        sw      t0, 0(s3)               # record the spike mask
        addi    s3, s3, 4
        cpop    t1, t0                  # count this step's spikes
        add     s4, s4, t1
        addi    s1, s1, __vector_bytes
        li      t2, 2 * NEURONS
        blt     s1, t2, group_loop
        addi    s0, s0, 1
        li      t2, STEPS
        blt     s0, t2, step_loop

        la      t0, total
        sw      s4, 0(t0)
        mv      a0, s4                  # a0 = total number of spikes
        ecall
