// S3 through the AWS SDK for JavaScript v3: client-s3 with its default (CRC32, aws-chunked)
// checksums, s3-request-presigner, and lib-storage's multipart Upload.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import {
  S3Client,
  CreateBucketCommand,
  PutObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  DeleteObjectsCommand,
  CopyObjectCommand,
  PutBucketVersioningCommand,
  ListObjectVersionsCommand,
  NoSuchKey,
  NoSuchBucket,
  paginateListObjectsV2,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { Upload } from "@aws-sdk/lib-storage";
import { startStratus } from "./stratus.mjs";

let stratus;
let s3;
before(async () => {
  stratus = await startStratus();
  s3 = new S3Client({ ...stratus.clientConfig, forcePathStyle: true });
});
after(async () => {
  assert.equal(await stratus.stop(), 0);
});

const md5 = (b) => createHash("md5").update(b).digest("hex");
const bucketName = (p) => `${p}-${randomBytes(5).toString("hex")}`;

test("put and get with the SDK's default checksums", async () => {
  const Bucket = bucketName("js");
  await s3.send(new CreateBucketCommand({ Bucket }));
  const body = "hello from sdk v3";
  const put = await s3.send(new PutObjectCommand({ Bucket, Key: "a.txt", Body: body, ContentType: "text/plain" }));
  assert.equal(put.ETag, `"${md5(body)}"`);
  const got = await s3.send(new GetObjectCommand({ Bucket, Key: "a.txt", ChecksumMode: "ENABLED" }));
  assert.equal(await got.Body.transformToString(), body);
  assert.equal(got.ContentType, "text/plain");
  // A stream body is sent aws-chunked with a trailing checksum.
  const sent = [];
  s3.middlewareStack.add(
    (next) => async (args) => {
      sent.push(args.request.headers["x-amz-content-sha256"]);
      return next(args);
    },
    { step: "finalizeRequest", priority: "low", name: "recordPayloadHash" },
  );
  const streamed = randomBytes(300 * 1024);
  await s3.send(new PutObjectCommand({
    Bucket, Key: "stream.bin", Body: Readable.from([streamed]), ContentLength: streamed.length,
    ChecksumAlgorithm: "CRC32",
  }));
  assert.ok(sent.includes("STREAMING-UNSIGNED-PAYLOAD-TRAILER"), JSON.stringify(sent));
  s3.middlewareStack.remove("recordPayloadHash");
  const back = await s3.send(new GetObjectCommand({ Bucket, Key: "stream.bin" }));
  assert.equal(md5(Buffer.from(await back.Body.transformToByteArray())), md5(streamed));
  const head = await s3.send(new HeadObjectCommand({ Bucket, Key: "stream.bin", ChecksumMode: "ENABLED" }));
  assert.equal(head.ContentLength, streamed.length);
  assert.ok(head.ChecksumCRC32);
  await assert.rejects(s3.send(new GetObjectCommand({ Bucket, Key: "missing" })), NoSuchKey);
  await assert.rejects(s3.send(new GetObjectCommand({ Bucket: "no-such-bucket-js", Key: "x" })), NoSuchBucket);
});

test("listing, copy, batch delete and versions", async () => {
  const Bucket = bucketName("list");
  await s3.send(new CreateBucketCommand({ Bucket }));
  const keys = Array.from({ length: 30 }, (_, i) => `k/${String(i).padStart(2, "0")}`);
  await Promise.all(keys.map((Key) => s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }))));
  const seen = [];
  for await (const page of paginateListObjectsV2({ client: s3, pageSize: 7 }, { Bucket })) {
    for (const o of page.Contents ?? []) seen.push(o.Key);
  }
  assert.deepEqual(seen, keys);
  await s3.send(new CopyObjectCommand({ Bucket, Key: "copy", CopySource: `${Bucket}/k/00` }));
  const copy = await s3.send(new GetObjectCommand({ Bucket, Key: "copy" }));
  assert.equal(await copy.Body.transformToString(), "k/00");
  const del = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
  assert.equal(del.Deleted.length, 30);
  const left = await s3.send(new ListObjectsV2Command({ Bucket }));
  assert.deepEqual(left.Contents.map((o) => o.Key), ["copy"]);
  await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: "Enabled" } }));
  await s3.send(new PutObjectCommand({ Bucket, Key: "copy", Body: "v2" }));
  const versions = await s3.send(new ListObjectVersionsCommand({ Bucket }));
  assert.equal(versions.Versions.length, 2);
});

test("presigned GET and PUT with fetch", async () => {
  const Bucket = bucketName("presign");
  await s3.send(new CreateBucketCommand({ Bucket }));
  const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket, Key: "p.txt" }), { expiresIn: 300 });
  const put = await fetch(putUrl, { method: "PUT", body: "via presigned put" });
  assert.equal(put.status, 200);
  const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key: "p.txt" }), { expiresIn: 300 });
  const got = await fetch(getUrl);
  assert.equal(got.status, 200);
  assert.equal(await got.text(), "via presigned put");
  const expired = await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key: "p.txt" }), { expiresIn: 1 });
  await new Promise((r) => setTimeout(r, 2100));
  const denied = await fetch(expired);
  assert.equal(denied.status, 403);
  assert.match(await denied.text(), /<Code>AccessDenied<\/Code>.*Request has expired/s);
});

test("lib-storage Upload in parts", async () => {
  const Bucket = bucketName("upload");
  await s3.send(new CreateBucketCommand({ Bucket }));
  const data = randomBytes(12 * 1024 * 1024 + 5);
  const upload = new Upload({
    client: s3,
    params: { Bucket, Key: "big.bin", Body: Readable.from([data.subarray(0, 7e6), data.subarray(7e6)]) },
    partSize: 5 * 1024 * 1024,
    queueSize: 2,
  });
  const done = await upload.done();
  assert.match(done.ETag, /-3"$/);
  const head = await s3.send(new HeadObjectCommand({ Bucket, Key: "big.bin" }));
  assert.equal(head.ContentLength, data.length);
  const part = await s3.send(new GetObjectCommand({ Bucket, Key: "big.bin", Range: "bytes=5242880-5242889" }));
  assert.deepEqual(Buffer.from(await part.Body.transformToByteArray()), data.subarray(5242880, 5242890));
  const whole = await s3.send(new GetObjectCommand({ Bucket, Key: "big.bin" }));
  assert.equal(md5(Buffer.from(await whole.Body.transformToByteArray())), md5(data));
});
