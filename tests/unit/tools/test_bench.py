#!/usr/bin/env python3
"""The Linux benchmark's parsers (tools/mamori bench --linux) on the lines
the VMM's `vm info` and the guest's init print: a changed line format must
fail here, not turn the benchmark's figures into zeros."""
import unittest

from mamori_tools import bench

# `vm info` as vmm/shell/vm_commands.cpp prints it (one vCPU, CRB guest).
INFO = (b"vm info linux-crb\r\n"
        b"linux-crb: id 1, running on cpu2, 1 vCPU, image vmlinuz (bzImage), entry 0x100000\r\n"
        b"  memory: 256 MiB guest-physical [0, 0x10000000) at host 0x20000000; EPT 9 table pages\r\n"
        b"  ran 5120 slices, 61234 ms in the guest, 812345 exits, 0 resets; sleeping in HLT\r\n"
        b"  TPM: CRB at 0xfed40000, engine vtpm-service in the service partition, 148 commands, "
        b"permanent state 3021 bytes, 0 restarts\r\n"
        b"  platform: PIC INT low; next deadline 123\r\n"
        b"  mmio LAPIC [0xfee00000, 0xfee01000): 70 accesses\r\n"
        b"  mmio TPM CRB [0xfed40000, 0xfed45000): 1800 accesses\r\n"
        b"    EPT violation          2010\r\n"
        b"    WRMSR                  700000\r\n"
        b"    HLT                    4000\r\n"
        b"mamori> ")


class VmInfo(unittest.TestCase):
    def test_fields(self):
        i = bench.parse_vm_info(INFO)
        self.assertEqual(i["ms"], 61234)
        self.assertEqual(i["exits"], 812345)
        self.assertEqual(i["commands"], 148)
        self.assertEqual(i["mmio"], {"LAPIC": 70, "TPM CRB": 1800})
        self.assertEqual(i["reasons"], {"EPT violation": 2010, "WRMSR": 700000, "HLT": 4000})

    def test_difference(self):
        a = bench.parse_vm_info(INFO)
        b = bench.parse_vm_info(INFO.replace(b"812345 exits", b"813345 exits").replace(b"148 commands", b"188 commands")
                                .replace(b"1800 accesses", b"2400 accesses").replace(b"2010", b"2610"))
        d = bench.diff_info(a, b)
        self.assertEqual((d["exits"], d["commands"], d["mmio"]["TPM CRB"]), (1000, 40, 600))
        self.assertEqual(d["reasons"]["EPT violation"], 600)
        self.assertEqual(d["reasons"]["WRMSR"], 0)

    def test_missing_line_is_an_error(self):
        with self.assertRaises(bench.BenchError):
            bench.parse_vm_info(b"vm info x\r\nno such guest\r\n")


class GuestLines(unittest.TestCase):
    LOG = (b"[linux-tis] [    0.000000] Linux version 6.1.0\r\n"
           b"[linux-crb] [   21.503122] Run /init as init process\r\n"
           b"[linux-tis] [   19.250001] Run /init as init process\r\n"
           b"[linux-tis] mamori-bench: ready uptime 20.11\r\n"
           b"[linux-tis] mamori-bench: getrandom 20 of 20 from 25.01 to 31.51\r\n")

    def test_each_guest_its_own_lines(self):
        self.assertEqual(bench.parse_linux_boot(bench.guest_lines(self.LOG, "linux-tis")), 19.250001)
        self.assertEqual(bench.parse_linux_boot(bench.guest_lines(self.LOG, "linux-crb")), 21.503122)
        good, n, secs = bench.parse_loop(self.LOG)
        self.assertEqual((good, n), (20, 20))
        self.assertAlmostEqual(secs, 6.5)

    def test_missing_lines_are_errors(self):
        with self.assertRaises(bench.BenchError):
            bench.parse_linux_boot(bench.guest_lines(self.LOG, "linux-other"))
        with self.assertRaises(bench.BenchError):
            bench.parse_loop(b"mamori-bench: ready uptime 1.00\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
