"""CompleteMultipartUpload of a 1 GiB upload (128 parts of 8 MiB, boto3) twice: its wall time and
the server CPU it takes (utime+stime from /proc/<pid>/stat), then three curl GETs of the object
(MB/s and server CPU). Starts its own stratus (tests/integration/conftest.py's harness).
usage: /usr/bin/python3 bench/s3/multipart_complete.py BUILD_DIR/stratus"""
import os, sys, tempfile, time
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'tests', 'integration'))
os.environ['STRATUS_BIN'] = sys.argv[1]
import conftest
conftest.BIN = sys.argv[1]
from conftest import Stratus, make_client
MIB = 1 << 20
def ticks(pid):
    f = open(f'/proc/{pid}/stat').read().rsplit(')', 1)[1].split()
    return int(f[11]) + int(f[12])
with tempfile.TemporaryDirectory(prefix='s3complete-', dir='/tmp') as d:
    s = Stratus(d).start()
    c = make_client(s, 's3')
    c.create_bucket(Bucket='timing')
    part = os.urandom(8 * MIB)
    for round_ in range(2):
        up = c.create_multipart_upload(Bucket='timing', Key=f'k{round_}')['UploadId']
        parts = []
        for n in range(1, 129):
            r = c.upload_part(Bucket='timing', Key=f'k{round_}', UploadId=up, PartNumber=n, Body=part)
            parts.append({'PartNumber': n, 'ETag': r['ETag']})
        t0, c0 = time.time(), ticks(s.proc.pid)
        c.complete_multipart_upload(Bucket='timing', Key=f'k{round_}', UploadId=up, MultipartUpload={'Parts': parts})
        t1, c1 = time.time(), ticks(s.proc.pid)
        print(f'{sys.argv[1]}: complete of 1 GiB (128 parts): {(t1 - t0) * 1000:.0f} ms wall, {(c1 - c0) * 10} ms server CPU')
    import subprocess
    for i in range(3):
        c0 = ticks(s.proc.pid)
        out = subprocess.run(['curl', '-s', '-o', '/dev/null', '-w', '%{time_total} %{size_download}',
                              f'{s.url}/timing/k1'], capture_output=True, text=True).stdout.split()
        c1 = ticks(s.proc.pid)
        print(f'  GET 1 GiB: {int(out[1]) / float(out[0]) / 1e6:.0f} MB/s, {(c1 - c0) * 10} ms server CPU')
    s.stop()
