#!/usr/bin/env python3
"""The image tools/mamori writes: a GPT that sgdisk verifies, the ESP
first (its FAT holding the loader and the files), mamori's state
partition last (type D4CA0AA0-..., 4 MiB, 1 MiB-aligned, all zeros),
checked with sgdisk and mtools rather than a parser of our own."""
import os
import re
import subprocess
import tempfile
import unittest

from mamori_tools import image, prereq


def sgdisk(*args):
    return subprocess.run(["sgdisk"] + list(args), capture_output=True, text=True, check=True).stdout


def info(img, n):
    out = sgdisk("-i", str(n), img)
    first = int(re.search(r"First sector: (\d+)", out).group(1))
    last = int(re.search(r"Last sector: (\d+)", out).group(1))
    code = re.search(r"Partition GUID code: ([0-9A-F-]+)", out).group(1)
    name = re.search(r"Partition name: '([^']*)'", out).group(1)
    return first, last, code, name


class Image(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        try:
            for tool in image.TOOLS:
                prereq.program(tool)
        except prereq.Missing as ex:
            raise unittest.SkipTest(str(ex))
        cls.tmp = tempfile.TemporaryDirectory()
        t = cls.tmp.name
        efi = os.path.join(t, "BOOTX64.EFI")
        with open(efi, "wb") as f:
            f.write(b"MZ loader stand-in")
        vmm = os.path.join(t, "vmm.elf")
        with open(vmm, "wb") as f:
            f.write(b"\x7fELF vmm stand-in")
        cls.img = image.write_image(os.path.join(t, "test.img"), efi=efi, files={"vmm.elf": vmm})

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_gpt_verifies(self):
        self.assertIn("No problems found", sgdisk("-v", self.img))

    def test_esp_then_state_partition(self):
        size = os.path.getsize(self.img) // image.SECTOR
        e_first, e_last, e_code, _ = info(self.img, 1)
        s_first, s_last, s_code, s_name = info(self.img, 2)
        self.assertEqual(e_code, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B")  # EFI System Partition
        self.assertEqual(e_first, image.FIRST_LBA)
        self.assertEqual(s_code, image.STATE_TYPE_GUID)
        self.assertEqual(s_code, "D4CA0AA0-9AB0-45D6-BE11-8DCF59C3D4B7")  # vmm/storage/gpt.hpp
        self.assertEqual(s_name, "mamori state")
        self.assertEqual(s_last - s_first + 1, image.STATE_SECTORS)
        self.assertEqual(s_first % image.ALIGN, 0)
        self.assertEqual(s_first, e_last + 1)
        self.assertLessEqual(s_last, size - image.GPT_BACKUP_SECTORS)

    def test_state_partition_never_written(self):
        s_first, s_last, _, _ = info(self.img, 2)
        with open(self.img, "rb") as f:
            f.seek(s_first * image.SECTOR)
            data = f.read((s_last - s_first + 1) * image.SECTOR)
        self.assertEqual(data.count(0), len(data))

    def test_esp_holds_the_files(self):
        e_first = info(self.img, 1)[0]
        out = subprocess.run(["mdir", "-b", "-i", "%s@@%d" % (self.img, e_first * image.SECTOR), "::/mamori"],
                             capture_output=True, text=True, check=True).stdout
        self.assertIn("VMM.ELF", out.upper())


if __name__ == "__main__":
    unittest.main()
