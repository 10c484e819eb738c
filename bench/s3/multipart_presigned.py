"""A lean multipart client: one file uploaded as parts in parallel, each part a `curl -T` of a
presigned UploadPart URL (SigV4 query auth, UNSIGNED-PAYLOAD: no client-side hashing at all), so
that what is measured is the server, not a client's hashing. boto3 only creates the bucket and the
upload, presigns the part URLs and completes the upload (ETags read from curl's answers).

The file is cut into part files once, before anything is timed (they stay in the page cache, as
the file does for the other clients). Uploads once to warm up, then --count times, checks each
object's size with HeadObject, and prints one JSON line like multipart_upload.mjs: {"seconds":
wall time of the timed uploads, "bytes": bytes uploaded, "client_cpu_seconds": the CPU of this
process and of every curl it ran over them}.
Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, "test" by default.
usage: /usr/bin/python3 multipart_presigned.py ENDPOINT FILE [--part-mib 8] [--parallel 4]
                                               [--count 3] [--bucket b]"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

MIB = 1 << 20


def cpu_seconds():
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def put_part(url, path):
    out = subprocess.run(['curl', '-s', '-S', '-o', '/dev/null', '-D', '-', '-T', path, url],
                         capture_output=True, text=True)
    status, etag = None, None
    for line in out.stdout.splitlines():
        if line.startswith('HTTP/'):
            status = line.split()[1]
        elif line.lower().startswith('etag:'):
            etag = line.split(':', 1)[1].strip()
    if status != '200' or not etag:
        raise RuntimeError(f'UploadPart {url} answered {status}: {out.stdout} {out.stderr}')
    return etag


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('endpoint')
    ap.add_argument('file')
    ap.add_argument('--part-mib', type=int, default=8)
    ap.add_argument('--parallel', type=int, default=4)
    ap.add_argument('--count', type=int, default=3)
    ap.add_argument('--bucket', default='bench')
    a = ap.parse_args()
    s3 = boto3.client('s3', endpoint_url=a.endpoint, region_name='us-east-1',
                      aws_access_key_id=os.environ.get('AWS_ACCESS_KEY_ID', 'test'),
                      aws_secret_access_key=os.environ.get('AWS_SECRET_ACCESS_KEY', 'test'),
                      config=Config(signature_version='s3v4', s3={'addressing_style': 'path'}))
    try:
        s3.create_bucket(Bucket=a.bucket)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    size = os.path.getsize(a.file)
    part_bytes = a.part_mib * MIB
    with tempfile.TemporaryDirectory(prefix='s3parts-', dir=os.path.dirname(os.path.abspath(a.file))) as d:
        paths = []
        with open(a.file, 'rb') as f:
            while True:
                chunk = f.read(part_bytes)
                if not chunk:
                    break
                paths.append(os.path.join(d, f'part{len(paths) + 1}'))
                with open(paths[-1], 'wb') as out:
                    out.write(chunk)

        def upload(key):
            up = s3.create_multipart_upload(Bucket=a.bucket, Key=key)['UploadId']
            urls = [s3.generate_presigned_url('upload_part', ExpiresIn=3600, Params={
                'Bucket': a.bucket, 'Key': key, 'UploadId': up, 'PartNumber': n + 1})
                for n in range(len(paths))]
            with ThreadPoolExecutor(a.parallel) as pool:
                etags = list(pool.map(put_part, urls, paths))
            s3.complete_multipart_upload(Bucket=a.bucket, Key=key, UploadId=up, MultipartUpload={
                'Parts': [{'PartNumber': n + 1, 'ETag': e} for n, e in enumerate(etags)]})
            got = s3.head_object(Bucket=a.bucket, Key=key)['ContentLength']
            if got != size:
                raise RuntimeError(f'{key}: HeadObject says {got} bytes, uploaded {size}')

        upload('warm')
        start, cpu0 = time.monotonic(), cpu_seconds()
        for i in range(a.count):
            upload(f'mp{i}')
        seconds, cpu = time.monotonic() - start, cpu_seconds() - cpu0
    print(json.dumps({'seconds': seconds, 'bytes': size * a.count, 'client_cpu_seconds': cpu}))


if __name__ == '__main__':
    sys.exit(main())
