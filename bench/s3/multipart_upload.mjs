// One client's parallel multipart uploads of a file, as applications upload large objects:
// @aws-sdk/lib-storage's Upload (parts of --part-mib, --queue of them in flight), with the SDK's
// default checksums. Creates the bucket, uploads once to warm up, then --count times, checks
// each object's size with HeadObject, and prints one JSON line: {"seconds": wall time of the
// timed uploads, "bytes": bytes uploaded, "client_cpu_seconds": this process's CPU over them}.
// Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, "test" by default.
// usage: node multipart_upload.mjs ENDPOINT FILE [--part-mib 8] [--queue 4] [--count 3] [--bucket b]
import { createReadStream, statSync } from "node:fs";
import { S3Client, CreateBucketCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";

const [endpoint, file, ...rest] = process.argv.slice(2);
if (!endpoint || !file) {
  console.error("usage: node multipart_upload.mjs ENDPOINT FILE [--part-mib N] [--queue N] [--count N] [--bucket B]");
  process.exit(2);
}
const opt = { "part-mib": 8, queue: 4, count: 3, bucket: "bench" };
for (let i = 0; i < rest.length; i += 2) opt[rest[i].replace(/^--/, "")] = rest[i + 1];
const partSize = Number(opt["part-mib"]) * 1024 * 1024;
const queueSize = Number(opt.queue);
const count = Number(opt.count);
const size = statSync(file).size;

const client = new S3Client({
  endpoint,
  region: "us-east-1",
  forcePathStyle: true,
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID || "test",
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || "test",
  },
});

async function uploadOnce(key) {
  const upload = new Upload({
    client,
    params: { Bucket: opt.bucket, Key: key, Body: createReadStream(file, { highWaterMark: 1 << 20 }) },
    partSize,
    queueSize,
    leavePartsOnError: false,
  });
  await upload.done();
  const head = await client.send(new HeadObjectCommand({ Bucket: opt.bucket, Key: key }));
  if (Number(head.ContentLength) !== size) {
    throw new Error(`${key}: HeadObject says ${head.ContentLength} bytes, uploaded ${size}`);
  }
}

try {
  await client.send(new CreateBucketCommand({ Bucket: opt.bucket }));
} catch (e) {
  if (!["BucketAlreadyOwnedByYou", "BucketAlreadyExists"].includes(e.name)) throw e;
}
await uploadOnce("warm");
const start = process.hrtime.bigint();
const cpuStart = process.cpuUsage();
for (let i = 0; i < count; i++) await uploadOnce(`mp${i}`);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const cpu = process.cpuUsage(cpuStart);
console.log(JSON.stringify({ seconds, bytes: size * count, client_cpu_seconds: (cpu.user + cpu.system) / 1e6 }));
