"""The Python integer reference reproduces every recorded parity vector (the C++
side checks the same file in tests/codec/parity_test.cpp)."""
import unittest
from pathlib import Path

from fxic import parity

REPO = Path(__file__).resolve().parents[2]


class ParityTest(unittest.TestCase):
    def test_golden_files_match_reference(self):
        files = sorted((REPO / "tests" / "golden").glob("parity_*.txt"))
        self.assertTrue(files)
        for golden in files:
            model_file = golden.read_text().split()[2]
            path = REPO / "models" / model_file
            if not path.exists():
                continue
            with self.subTest(golden=golden.name):
                model, lines = parity.compute(path)
                expected = [l for l in golden.read_text().splitlines() if not l.startswith("#")]
                self.assertEqual(lines, expected)


if __name__ == "__main__":
    unittest.main()
