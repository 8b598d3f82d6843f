// Persistent Verilator simulator of the spikevec SoC behind the host byte protocol.
//
// Built by spikevec.sim.rtl.harness (Verilator --cc --exe --build, --prefix Vtop) together
// with the Verilog of hw/rtl/soc.py's Soc. The clock runs here, in C++; Python only moves
// host protocol bytes in and out through two pipes, stdin and stdout.
//
// Pipe protocol (all integers little-endian). Python -> simulator (stdin):
//   'W' u32 n, n bytes : host bytes for the SoC's rx stream. The bytes of one message are
//                        fed only once the whole message has arrived, back to back (one
//                        per cycle while rx.ready), so a slow host never trips the host
//                        port's inter-byte timeout in the middle of a frame.
//   'Q'                : query; answered with 'Q' (below) after all tx bytes so far.
//   'X'                : finish (flushes and closes the waveform file); so does EOF.
// Simulator -> Python (stdout):
//   'H' u64 cycles     : ready (sent once, after reset).
//   'R' u32 n, n bytes : bytes the SoC sent on its tx stream (tx.ready is always 1); sent
//                        as soon as the tx line goes idle for a cycle, or every 64 KiB.
//   'Q' u64 cycles, u8 running : simulated clock cycles since the end of reset and the
//                        SoC's `running` output.
// Diagnostics go to stderr. Exit status 0 on 'X'/EOF, 2 on a malformed message or a
// failed write (for example Python went away).
//
// Scheduling: while the core runs, or host bytes are moving, or fewer than --idle-cycles
// cycles have passed since the last activity, the clock runs and stdin is polled without
// blocking every --poll-cycles cycles. After that (core stopped, line quiet, host port
// timeout elapsed) the process blocks in poll() on stdin and uses no CPU; simulated time
// stands still until host bytes arrive ('Q' is answered meanwhile). --idle-cycles
// should exceed the host port's timeout so that its timeouts behave as on a board.
//
// Options: --idle-cycles N (default 8192), --poll-cycles N (default 256),
//          --reset-cycles N (default 4), --wave PATH (traced builds only).

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <poll.h>
#include <unistd.h>

#include "Vtop.h"
#include "verilated.h"
#if VM_TRACE_FST
#include "verilated_fst_c.h"
typedef VerilatedFstC WaveFile;
#elif VM_TRACE_VCD
#include "verilated_vcd_c.h"
typedef VerilatedVcdC WaveFile;
#endif

namespace {

const size_t kFlushBytes = 1 << 16;

[[noreturn]] void die(const std::string& message) {
    std::fprintf(stderr, "soc_harness: %s\n", message.c_str());
    std::fflush(stderr);
    std::_Exit(2);
}

void write_all(const uint8_t* data, size_t n) {
    while (n > 0) {
        ssize_t done = ::write(STDOUT_FILENO, data, n);
        if (done < 0) {
            if (errno == EINTR) continue;
            die(std::string("writing to stdout failed: ") + std::strerror(errno) +
                "; the Python side has probably exited.");
        }
        data += done;
        n -= static_cast<size_t>(done);
    }
}

void put_u32(std::vector<uint8_t>& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void put_u64(std::vector<uint8_t>& out, uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

long option(int argc, char** argv, const char* name, long fallback) {
    for (int i = 1; i + 1 < argc; ++i)
        if (std::strcmp(argv[i], name) == 0) {
            char* end = nullptr;
            long v = std::strtol(argv[i + 1], &end, 10);
            if (*end || v <= 0)
                die(std::string("option ") + name + " needs a positive integer, not '" +
                    argv[i + 1] + "'.");
            return v;
        }
    return fallback;
}

const char* text_option(int argc, char** argv, const char* name) {
    for (int i = 1; i + 1 < argc; ++i)
        if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
    return nullptr;
}

class Harness {
  public:
    Harness(int argc, char** argv)
        : context_(new VerilatedContext), top_(new Vtop(context_.get(), "top")) {
        idle_limit_ = static_cast<uint64_t>(option(argc, argv, "--idle-cycles", 8192));
        poll_every_ = static_cast<uint64_t>(option(argc, argv, "--poll-cycles", 256));
        reset_cycles_ = static_cast<uint64_t>(option(argc, argv, "--reset-cycles", 4));
        const char* wave = text_option(argc, argv, "--wave");
#if VM_TRACE_FST || VM_TRACE_VCD
        if (wave) {
            context_->traceEverOn(true);
            wave_.reset(new WaveFile);
            top_->trace(wave_.get(), 99);
            wave_->open(wave);
        }
#else
        if (wave) die("--wave was given but this simulator was built without tracing.");
#endif
    }

    ~Harness() {
#if VM_TRACE_FST || VM_TRACE_VCD
        if (wave_) wave_->close();
#endif
        top_->final();
    }

    int run() {
        top_->rx___05Fvalid = 0;
        top_->tx___05Fready = 1;
        top_->rst = 1;
        for (uint64_t i = 0; i < reset_cycles_; ++i) tick();
        top_->rst = 0;
        cycles_ = 0;
        std::vector<uint8_t> hello{'H'};
        put_u64(hello, cycles_);
        write_all(hello.data(), hello.size());

        uint64_t idle = 0, next_poll = poll_every_;
        while (!finished_) {
            bool rx_pending = rx_head_ < rx_.size();
            top_->rx___05Fvalid = rx_pending;
            if (rx_pending) top_->rx___05Fpayload = rx_[rx_head_];
            bool took = false, sent = false;
            uint8_t byte = 0;
            tick_sampled(rx_pending, took, sent, byte);
            if (took && ++rx_head_ == rx_.size()) {
                rx_.clear();
                rx_head_ = 0;
            }
            if (sent) {
                tx_.push_back(byte);
                if (tx_.size() >= kFlushBytes) flush_tx();
            } else if (!tx_.empty()) {
                flush_tx();         // the tx line went idle: hand the bytes over now
            }
            bool active = top_->running || rx_pending || sent;
            idle = active ? 0 : idle + 1;
            if (idle >= idle_limit_) {
                flush_tx();
                // Nothing can happen until the host sends bytes (queries are answered
                // without advancing the clock).
                while (!finished_ && rx_head_ >= rx_.size()) wait_input(-1);
                idle = 0;
                next_poll = cycles_ + poll_every_;
            } else if (cycles_ >= next_poll) {
                wait_input(0);
                next_poll = cycles_ + poll_every_;
            }
        }
        flush_tx();
        return 0;
    }

  private:
    // One clock cycle; samples the handshakes between the falling and the rising edge.
    void tick_sampled(bool rx_valid, bool& took, bool& sent, uint8_t& byte) {
        top_->clk = 0;
        top_->eval();
        dump();
        took = rx_valid && top_->rx___05Fready;
        sent = top_->tx___05Fvalid;
        byte = top_->tx___05Fpayload;
        top_->clk = 1;
        top_->eval();
        dump();
        ++cycles_;
    }

    void tick() {
        bool took, sent;
        uint8_t byte;
        tick_sampled(false, took, sent, byte);
    }

    void dump() {
#if VM_TRACE_FST || VM_TRACE_VCD
        if (wave_) wave_->dump(context_->time());
#endif
        context_->timeInc(1);
    }

    void flush_tx() {
        if (tx_.empty()) return;
        std::vector<uint8_t> out{'R'};
        put_u32(out, static_cast<uint32_t>(tx_.size()));
        out.insert(out.end(), tx_.begin(), tx_.end());
        write_all(out.data(), out.size());
        tx_.clear();
    }

    // Wait up to timeout_ms (-1: forever) for stdin, read what is there, act on it.
    void wait_input(int timeout_ms) {
        pollfd fd{STDIN_FILENO, POLLIN, 0};
        int n;
        do n = ::poll(&fd, 1, timeout_ms); while (n < 0 && errno == EINTR);
        if (n < 0) die(std::string("poll() on stdin failed: ") + std::strerror(errno));
        if (n == 0) return;
        uint8_t buf[1 << 16];
        ssize_t got;
        do got = ::read(STDIN_FILENO, buf, sizeof buf); while (got < 0 && errno == EINTR);
        if (got < 0) die(std::string("reading stdin failed: ") + std::strerror(errno));
        if (got == 0) {          // EOF: the Python side closed the pipe
            finished_ = true;
            return;
        }
        in_.insert(in_.end(), buf, buf + got);
        parse();
    }

    void parse() {
        size_t pos = 0;
        while (pos < in_.size() && !finished_) {
            uint8_t kind = in_[pos];
            if (kind == 'W') {
                if (in_.size() - pos < 5) break;
                uint32_t n = 0;
                for (int i = 0; i < 4; ++i) n |= uint32_t(in_[pos + 1 + i]) << (8 * i);
                if (in_.size() - pos - 5 < n) break;    // wait for the whole message
                rx_.insert(rx_.end(), in_.begin() + pos + 5, in_.begin() + pos + 5 + n);
                pos += 5 + n;
            } else if (kind == 'Q') {
                flush_tx();
                std::vector<uint8_t> out{'Q'};
                put_u64(out, cycles_);
                out.push_back(top_->running ? 1 : 0);
                write_all(out.data(), out.size());
                pos += 1;
            } else if (kind == 'X') {
                finished_ = true;
                pos += 1;
            } else {
                die("unknown message type " + std::to_string(kind) +
                    " on stdin; expected 'W', 'Q' or 'X' (see soc_main.cpp).");
            }
        }
        in_.erase(in_.begin(), in_.begin() + pos);
    }

    std::unique_ptr<VerilatedContext> context_;
    std::unique_ptr<Vtop> top_;
#if VM_TRACE_FST || VM_TRACE_VCD
    std::unique_ptr<WaveFile> wave_;
#endif
    uint64_t cycles_ = 0, idle_limit_ = 0, poll_every_ = 0, reset_cycles_ = 0;
    std::vector<uint8_t> in_, rx_, tx_;
    size_t rx_head_ = 0;
    bool finished_ = false;
};

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    Verilated::commandArgs(argc, argv);
    int status;
    {
        Harness harness(argc, argv);
        status = harness.run();
    }
    return status;
}
