"""Instructions per request by stage, from a callgrind dump of the server.

Used by bench/*/..._instructions.sh: `requests(dump, entry)` counts the requests (the calls of the
function whose name starts with `entry`), and `stages(dump, wanted, per)` prints each wanted
stage's inclusive instruction count divided by `per` (the first annotate line matching its
pattern). Thousands of instructions, user space only.
"""
import re
import subprocess


def summary(dump):
    """(total instructions, file text) of a callgrind dump."""
    text = open(dump).read()
    return int(re.search(r'summary: (\d+)', text).group(1)), text


def requests(text, entry):
    """How many times the functions whose names start with `entry` were called."""
    names = dict(re.findall(r'\((\d+)\) (.*)', text))
    ids = {k for k, v in names.items() if v.startswith(entry)}
    lines = text.split('\n')
    count = 0
    for i, line in enumerate(lines[:-1]):
        m = re.match(r'cfn=\((\d+)\)', line)
        if m and m.group(1) in ids and lines[i + 1].startswith('calls='):
            count += int(lines[i + 1].split('=')[1].split()[0])
    return count


def stages(dump, wanted, per, width=40, unit='k'):
    """Prints `label  N k` for each (label, regex) of `wanted`, N = inclusive instructions / per."""
    annotate = subprocess.run(['callgrind_annotate', '--inclusive=yes', '--threshold=100', dump],
                              capture_output=True, text=True).stdout.split('\n')
    for label, pattern in wanted:
        for line in annotate:
            m = re.match(r'\s*([\d,]+) \(\s*[\d.]+%\)\s+\S*?:(.*)', line)
            if m and re.search(pattern, m.group(2)):
                print(f'  {label:<{width}} {int(m.group(1).replace(",", "")) / per / 1000:8.1f} {unit}')
                break
