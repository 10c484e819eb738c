// The cross-check corpus: realistic policies and the requests they decide. Each group shares its
// policies; each request is one case. crosscheck.mjs evaluates every case with
// @cloud-copilot/iam-simulate and with stratus's engine (iam_policy_eval) and compares decisions.
const A = '111122223333'
const B = '444455556666'
const alice = `arn:aws:iam::${A}:user/alice`
const bob = `arn:aws:iam::${A}:user/bob`
const roleSession = `arn:aws:sts::${A}:assumed-role/app/s1`
const other = `arn:aws:iam::${B}:user/mallory`
const doc = (...Statement) => ({ Version: '2012-10-17', Statement })
const now = '2026-06-01T12:00:00Z'

const req = (principal, action, resource, context = {}, resourceAccount = A) =>
  ({ principal, action, resource, resourceAccount, context })

export const groups = [
  {
    name: 's3 read on a prefix',
    identity: [doc({ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'],
      Resource: ['arn:aws:s3:::data', 'arn:aws:s3:::data/reports/*'] })],
    requests: [
      req(alice, 's3:GetObject', 'arn:aws:s3:::data/reports/q1.csv'),
      req(alice, 's3:GetObject', 'arn:aws:s3:::data/private/x'),
      req(alice, 's3:ListBucket', 'arn:aws:s3:::data'),
      req(alice, 's3:PutObject', 'arn:aws:s3:::data/reports/q1.csv'),
      req(alice, 's3:GetObject', 'arn:aws:s3:::data2/reports/q1.csv'),
    ],
  },
  {
    name: 'admin except iam (NotAction)',
    identity: [doc({ Effect: 'Allow', NotAction: ['iam:*', 'organizations:*'], Resource: '*' })],
    requests: [
      req(alice, 'sqs:SendMessage', `arn:aws:sqs:us-east-1:${A}:q`),
      req(alice, 'iam:CreateUser', `arn:aws:iam::${A}:user/x`),
      req(alice, 'dynamodb:GetItem', `arn:aws:dynamodb:us-east-1:${A}:table/t`),
    ],
  },
  {
    name: 'explicit deny beats allow',
    identity: [
      doc({ Effect: 'Allow', Action: '*', Resource: '*' }),
      doc({ Effect: 'Deny', Action: ['s3:DeleteObject', 's3:DeleteBucket'], Resource: '*' }),
    ],
    requests: [
      req(alice, 's3:DeleteObject', 'arn:aws:s3:::b/k'),
      req(alice, 's3:GetObject', 'arn:aws:s3:::b/k'),
      req(alice, 's3:DeleteBucket', 'arn:aws:s3:::b'),
    ],
  },
  {
    name: 'deny without TLS (Bool)',
    identity: [doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' },
      { Effect: 'Deny', Action: 's3:*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })],
    requests: [
      req(alice, 's3:GetObject', 'arn:aws:s3:::b/k', { 'aws:SecureTransport': 'false' }),
      req(alice, 's3:GetObject', 'arn:aws:s3:::b/k', { 'aws:SecureTransport': 'true' }),
      req(alice, 's3:GetObject', 'arn:aws:s3:::b/k'),
    ],
  },
  {
    name: 'source ip ranges',
    identity: [doc({ Effect: 'Allow', Action: 'dynamodb:*', Resource: '*',
      Condition: { IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '192.168.1.0/24', '2001:db8::/32'] } } })],
    requests: [
      req(alice, 'dynamodb:Query', `arn:aws:dynamodb:us-east-1:${A}:table/t`, { 'aws:SourceIp': '10.1.2.3' }),
      req(alice, 'dynamodb:Query', `arn:aws:dynamodb:us-east-1:${A}:table/t`, { 'aws:SourceIp': '192.168.2.1' }),
      req(alice, 'dynamodb:Query', `arn:aws:dynamodb:us-east-1:${A}:table/t`, { 'aws:SourceIp': '2001:db8::1' }),
      req(alice, 'dynamodb:Query', `arn:aws:dynamodb:us-east-1:${A}:table/t`),
    ],
  },
  {
    name: 'NotIpAddress deny',
    identity: [doc({ Effect: 'Allow', Action: 'sqs:*', Resource: '*' },
      { Effect: 'Deny', Action: '*', Resource: '*', Condition: { NotIpAddress: { 'aws:SourceIp': '203.0.113.0/24' } } })],
    requests: [
      req(alice, 'sqs:SendMessage', `arn:aws:sqs:us-east-1:${A}:q`, { 'aws:SourceIp': '203.0.113.9' }),
      req(alice, 'sqs:SendMessage', `arn:aws:sqs:us-east-1:${A}:q`, { 'aws:SourceIp': '198.51.100.1' }),
    ],
  },
  {
    name: 'home folders with ${aws:username}',
    identity: [doc({ Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'],
      Resource: 'arn:aws:s3:::home/${aws:username}/*' })],
    requests: [
      req(alice, 's3:PutObject', 'arn:aws:s3:::home/alice/notes.txt', { 'aws:username': 'alice' }),
      req(alice, 's3:PutObject', 'arn:aws:s3:::home/bob/notes.txt', { 'aws:username': 'alice' }),
      req(bob, 's3:GetObject', 'arn:aws:s3:::home/bob/a/b/c', { 'aws:username': 'bob' }),
    ],
  },
  {
    name: 'list with s3:prefix and max-keys',
    identity: [doc({ Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::home',
      Condition: { StringLike: { 's3:prefix': ['', 'home/', 'home/${aws:username}/*'] },
        NumericLessThanEquals: { 's3:max-keys': '100' } } })],
    requests: [
      req(alice, 's3:ListBucket', 'arn:aws:s3:::home', { 'aws:username': 'alice', 's3:prefix': 'home/alice/x', 's3:max-keys': '50' }),
      req(alice, 's3:ListBucket', 'arn:aws:s3:::home', { 'aws:username': 'alice', 's3:prefix': 'home/bob/', 's3:max-keys': '50' }),
      req(alice, 's3:ListBucket', 'arn:aws:s3:::home', { 'aws:username': 'alice', 's3:prefix': 'home/alice/', 's3:max-keys': '500' }),
    ],
  },
  {
    name: 'time window (Date*)',
    identity: [doc({ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: '*',
      Condition: { DateGreaterThan: { 'aws:CurrentTime': '2026-01-01T00:00:00Z' },
        DateLessThan: { 'aws:CurrentTime': '2026-12-31T23:59:59Z' } } })],
    requests: [
      req(alice, 'lambda:InvokeFunction', `arn:aws:lambda:us-east-1:${A}:function:f`, { 'aws:CurrentTime': now }),
      req(alice, 'lambda:InvokeFunction', `arn:aws:lambda:us-east-1:${A}:function:f`, { 'aws:CurrentTime': '2027-02-01T00:00:00Z' }),
      req(alice, 'lambda:InvokeFunction', `arn:aws:lambda:us-east-1:${A}:function:f`, { 'aws:CurrentTime': '2025-12-31T00:00:00Z' }),
    ],
  },
  {
    name: 'tag-on-create (RequestTag, TagKeys)',
    identity: [doc({ Effect: 'Allow', Action: 'sqs:CreateQueue', Resource: '*',
      Condition: { StringEquals: { 'aws:RequestTag/env': ['dev', 'test'] },
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['env', 'owner'] } } })],
    requests: [
      req(alice, 'sqs:CreateQueue', `arn:aws:sqs:us-east-1:${A}:q`, { 'aws:RequestTag/env': 'dev', 'aws:TagKeys': ['env'] }),
      req(alice, 'sqs:CreateQueue', `arn:aws:sqs:us-east-1:${A}:q`, { 'aws:RequestTag/env': 'prod', 'aws:TagKeys': ['env'] }),
      req(alice, 'sqs:CreateQueue', `arn:aws:sqs:us-east-1:${A}:q`, { 'aws:RequestTag/env': 'dev', 'aws:TagKeys': ['env', 'cost'] }),
      req(alice, 'sqs:CreateQueue', `arn:aws:sqs:us-east-1:${A}:q`),
    ],
  },
  {
    name: 'ForAnyValue on tag keys',
    identity: [doc({ Effect: 'Allow', Action: 'sns:*', Resource: '*' },
      { Effect: 'Deny', Action: 'sns:TagResource', Resource: '*',
        Condition: { 'ForAnyValue:StringLike': { 'aws:TagKeys': ['aws:*', 'secret*'] } } })],
    requests: [
      req(alice, 'sns:TagResource', `arn:aws:sns:us-east-1:${A}:t`, { 'aws:TagKeys': ['team', 'secretive'] }),
      req(alice, 'sns:TagResource', `arn:aws:sns:us-east-1:${A}:t`, { 'aws:TagKeys': ['team'] }),
      req(alice, 'sns:TagResource', `arn:aws:sns:us-east-1:${A}:t`),
    ],
  },
  {
    name: 'Null requires a tag',
    identity: [doc({ Effect: 'Allow', Action: 'dynamodb:CreateTable', Resource: '*' },
      { Effect: 'Deny', Action: 'dynamodb:CreateTable', Resource: '*', Condition: { Null: { 'aws:RequestTag/owner': 'true' } } })],
    requests: [
      req(alice, 'dynamodb:CreateTable', `arn:aws:dynamodb:us-east-1:${A}:table/t`, { 'aws:RequestTag/owner': 'alice' }),
      req(alice, 'dynamodb:CreateTable', `arn:aws:dynamodb:us-east-1:${A}:table/t`),
    ],
  },
  {
    name: 'IfExists',
    identity: [doc({ Effect: 'Allow', Action: 'states:StartExecution', Resource: '*',
      Condition: { StringEqualsIfExists: { 'aws:RequestedRegion': ['us-east-1', 'eu-west-1'] } } })],
    requests: [
      req(alice, 'states:StartExecution', `arn:aws:states:us-east-1:${A}:stateMachine:m`, { 'aws:RequestedRegion': 'us-east-1' }),
      req(alice, 'states:StartExecution', `arn:aws:states:us-east-1:${A}:stateMachine:m`, { 'aws:RequestedRegion': 'ap-south-1' }),
      req(alice, 'states:StartExecution', `arn:aws:states:us-east-1:${A}:stateMachine:m`),
    ],
  },
  {
    name: 'principal tags (ABAC)',
    identity: [doc({ Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: '*',
      Condition: { StringEquals: { 'aws:ResourceTag/team': '${aws:PrincipalTag/team}' } } })],
    requests: [
      req(alice, 'dynamodb:GetItem', `arn:aws:dynamodb:us-east-1:${A}:table/t`, { 'aws:PrincipalTag/team': 'blue', 'aws:ResourceTag/team': 'blue' }),
      req(alice, 'dynamodb:GetItem', `arn:aws:dynamodb:us-east-1:${A}:table/t`, { 'aws:PrincipalTag/team': 'blue', 'aws:ResourceTag/team': 'red' }),
      req(alice, 'dynamodb:PutItem', `arn:aws:dynamodb:us-east-1:${A}:table/t`, { 'aws:ResourceTag/team': 'red' }),
    ],
  },
  {
    name: 'case-insensitive and not-equals strings',
    identity: [doc({ Effect: 'Allow', Action: 'logs:*', Resource: '*',
      Condition: { StringEqualsIgnoreCase: { 'aws:PrincipalTag/dept': 'Engineering' },
        StringNotEquals: { 'aws:PrincipalTag/level': 'intern' } } })],
    requests: [
      req(alice, 'logs:PutLogEvents', `arn:aws:logs:us-east-1:${A}:log-group:g:log-stream:s`, { 'aws:PrincipalTag/dept': 'ENGINEERING', 'aws:PrincipalTag/level': 'senior' }),
      req(alice, 'logs:PutLogEvents', `arn:aws:logs:us-east-1:${A}:log-group:g:log-stream:s`, { 'aws:PrincipalTag/dept': 'engineering', 'aws:PrincipalTag/level': 'intern' }),
      req(alice, 'logs:PutLogEvents', `arn:aws:logs:us-east-1:${A}:log-group:g:log-stream:s`, { 'aws:PrincipalTag/dept': 'sales' }),
    ],
  },
  {
    name: 'NotResource',
    identity: [doc({ Effect: 'Allow', Action: 's3:*', NotResource: ['arn:aws:s3:::secrets', 'arn:aws:s3:::secrets/*'] })],
    requests: [
      req(alice, 's3:GetObject', 'arn:aws:s3:::public/a'),
      req(alice, 's3:GetObject', 'arn:aws:s3:::secrets/a'),
      req(alice, 's3:ListBucket', 'arn:aws:s3:::secrets'),
    ],
  },
  {
    name: 'action wildcards',
    identity: [doc({ Effect: 'Allow', Action: ['sqs:Send*', 'sqs:?eceiveMessage', 'dynamodb:Batch*Item'], Resource: '*' })],
    requests: [
      req(alice, 'sqs:SendMessage', `arn:aws:sqs:us-east-1:${A}:q`),
      req(alice, 'sqs:ReceiveMessage', `arn:aws:sqs:us-east-1:${A}:q`),
      req(alice, 'sqs:DeleteMessage', `arn:aws:sqs:us-east-1:${A}:q`),
      req(alice, 'dynamodb:BatchWriteItem', `arn:aws:dynamodb:us-east-1:${A}:table/t`),
      req(alice, 'SQS:sendmessage', `arn:aws:sqs:us-east-1:${A}:q`),
    ],
  },
  {
    name: 'resource ARN wildcards across segments',
    identity: [doc({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:*:111122223333:orders-*' })],
    requests: [
      req(alice, 'sqs:SendMessage', `arn:aws:sqs:eu-west-1:${A}:orders-eu`),
      req(alice, 'sqs:SendMessage', `arn:aws:sqs:eu-west-1:${A}:payments`),
    ],
  },
  {
    name: 'ArnLike on PrincipalArn',
    identity: [doc({ Effect: 'Allow', Action: 'sns:Publish', Resource: '*',
      Condition: { ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::${A}:user/a*` } } })],
    requests: [
      req(alice, 'sns:Publish', `arn:aws:sns:us-east-1:${A}:t`, { 'aws:PrincipalArn': alice }),
      req(bob, 'sns:Publish', `arn:aws:sns:us-east-1:${A}:t`, { 'aws:PrincipalArn': bob }),
    ],
  },
  {
    name: 'numeric operators',
    identity: [doc({ Effect: 'Allow', Action: 's3:ListBucket', Resource: '*',
      Condition: { NumericGreaterThan: { 's3:max-keys': '10' }, NumericNotEquals: { 's3:max-keys': '42' } } })],
    requests: [
      req(alice, 's3:ListBucket', 'arn:aws:s3:::b', { 's3:max-keys': '20' }),
      req(alice, 's3:ListBucket', 'arn:aws:s3:::b', { 's3:max-keys': '42' }),
      req(alice, 's3:ListBucket', 'arn:aws:s3:::b', { 's3:max-keys': '5' }),
    ],
  },
  {
    name: 'permissions boundary caps an admin',
    identity: [doc({ Effect: 'Allow', Action: '*', Resource: '*' })],
    boundary: doc({ Effect: 'Allow', Action: ['sqs:*', 's3:Get*'], Resource: '*' }),
    requests: [
      req(alice, 'sqs:SendMessage', `arn:aws:sqs:us-east-1:${A}:q`),
      req(alice, 's3:GetObject', 'arn:aws:s3:::b/k'),
      req(alice, 's3:PutObject', 'arn:aws:s3:::b/k'),
      req(alice, 'iam:CreateUser', `arn:aws:iam::${A}:user/x`),
    ],
  },
  {
    name: 'boundary without identity allow',
    identity: [doc({ Effect: 'Allow', Action: 'sqs:ListQueues', Resource: '*' })],
    boundary: doc({ Effect: 'Allow', Action: '*', Resource: '*' }),
    requests: [
      req(alice, 'sqs:ListQueues', '*'),
      req(alice, 'sqs:SendMessage', `arn:aws:sqs:us-east-1:${A}:q`),
    ],
  },
  {
    name: 'resource policy grants a same-account user',
    identity: [],
    resourcePolicy: doc({ Effect: 'Allow', Principal: { AWS: alice }, Action: 'sqs:SendMessage', Resource: `arn:aws:sqs:us-east-1:${A}:q` }),
    requests: [
      req(alice, 'sqs:SendMessage', `arn:aws:sqs:us-east-1:${A}:q`),
      req(bob, 'sqs:SendMessage', `arn:aws:sqs:us-east-1:${A}:q`),
      req(alice, 'sqs:DeleteQueue', `arn:aws:sqs:us-east-1:${A}:q`),
    ],
  },
  {
    name: 'resource policy grants the account',
    identity: [],
    resourcePolicy: doc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 'sns:Publish', Resource: `arn:aws:sns:us-east-1:${A}:t` }),
    requests: [
      req(alice, 'sns:Publish', `arn:aws:sns:us-east-1:${A}:t`),
    ],
  },
  {
    name: 'cross-account needs both sides',
    identity: [doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::shared/*' })],
    resourcePolicy: doc({ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${A}:root` }, Action: 's3:GetObject', Resource: 'arn:aws:s3:::shared/*' }),
    requests: [
      req(alice, 's3:GetObject', 'arn:aws:s3:::shared/a', {}, B),
    ],
  },
  {
    name: 'cross-account without resource policy',
    identity: [doc({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' })],
    requests: [
      req(alice, 'sqs:SendMessage', `arn:aws:sqs:us-east-1:${B}:q`, {}, B),
    ],
  },
  {
    name: 'cross-account principal in a resource policy, no identity allow',
    identity: [],
    resourcePolicy: doc({ Effect: 'Allow', Principal: { AWS: other }, Action: 'sqs:SendMessage', Resource: `arn:aws:sqs:us-east-1:${A}:q` }),
    requests: [
      req(other, 'sqs:SendMessage', `arn:aws:sqs:us-east-1:${A}:q`),
    ],
  },
  {
    name: 'resource policy deny for everyone',
    identity: [doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' })],
    resourcePolicy: doc({ Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::b/*' },
      { Effect: 'Deny', NotPrincipal: { AWS: [alice] }, Action: 's3:PutObject', Resource: 'arn:aws:s3:::b/*' }),
    requests: [
      req(alice, 's3:DeleteObject', 'arn:aws:s3:::b/k'),
      req(alice, 's3:PutObject', 'arn:aws:s3:::b/k'),
      req(bob, 's3:PutObject', 'arn:aws:s3:::b/k'),
      req(bob, 's3:GetObject', 'arn:aws:s3:::b/k'),
    ],
  },
  {
    name: 'resource policy with a condition on the source ip',
    identity: [],
    resourcePolicy: doc({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::site/*',
      Condition: { IpAddress: { 'aws:SourceIp': '198.51.100.0/24' } } }),
    requests: [
      req(alice, 's3:GetObject', 'arn:aws:s3:::site/index.html', { 'aws:SourceIp': '198.51.100.7' }),
      req(alice, 's3:GetObject', 'arn:aws:s3:::site/index.html', { 'aws:SourceIp': '10.0.0.1' }),
    ],
  },
  {
    name: 'role session with identity policy',
    identity: [doc({ Effect: 'Allow', Action: ['dynamodb:Query', 'dynamodb:GetItem'], Resource: `arn:aws:dynamodb:us-east-1:${A}:table/orders*` })],
    requests: [
      req(roleSession, 'dynamodb:Query', `arn:aws:dynamodb:us-east-1:${A}:table/orders/index/byDate`),
      req(roleSession, 'dynamodb:GetItem', `arn:aws:dynamodb:us-east-1:${A}:table/users`),
    ],
  },
  {
    name: 'session policy narrows a role session',
    identity: [doc({ Effect: 'Allow', Action: '*', Resource: '*' })],
    session: doc({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }),
    requests: [
      req(roleSession, 's3:GetObject', 'arn:aws:s3:::b/k'),
      req(roleSession, 's3:PutObject', 'arn:aws:s3:::b/k'),
      req(roleSession, 'sqs:SendMessage', `arn:aws:sqs:us-east-1:${A}:q`),
    ],
  },
  {
    name: 'session policy cannot add permissions',
    identity: [doc({ Effect: 'Allow', Action: 'sqs:*', Resource: '*' })],
    session: doc({ Effect: 'Allow', Action: '*', Resource: '*' }),
    requests: [
      req(roleSession, 'sqs:SendMessage', `arn:aws:sqs:us-east-1:${A}:q`),
      req(roleSession, 's3:GetObject', 'arn:aws:s3:::b/k'),
    ],
  },
  {
    name: 'StringNotLike deny except a path',
    identity: [doc({ Effect: 'Allow', Action: 'iam:*', Resource: '*' },
      { Effect: 'Deny', Action: 'iam:CreateRole', Resource: '*', Condition: { StringNotLike: { 'iam:PermissionsBoundary': `arn:aws:iam::${A}:policy/boundary-*` } } })],
    requests: [
      req(alice, 'iam:CreateRole', `arn:aws:iam::${A}:role/r`, { 'iam:PermissionsBoundary': `arn:aws:iam::${A}:policy/boundary-dev` }),
      req(alice, 'iam:CreateRole', `arn:aws:iam::${A}:role/r`, { 'iam:PermissionsBoundary': `arn:aws:iam::${A}:policy/admin` }),
      req(alice, 'iam:CreateRole', `arn:aws:iam::${A}:role/r`),
    ],
  },
  {
    name: 'multiple values in a condition key are ORed, keys are ANDed',
    identity: [doc({ Effect: 'Allow', Action: 'ec2:RunInstances', Resource: '*',
      Condition: { StringEquals: { 'aws:RequestedRegion': ['us-east-1', 'us-west-2'], 'aws:PrincipalTag/cost': 'ok' } } })],
    requests: [
      req(alice, 'ec2:RunInstances', `arn:aws:ec2:us-west-2:${A}:instance/i-1`, { 'aws:RequestedRegion': 'us-west-2', 'aws:PrincipalTag/cost': 'ok' }),
      req(alice, 'ec2:RunInstances', `arn:aws:ec2:us-west-2:${A}:instance/i-1`, { 'aws:RequestedRegion': 'us-west-2' }),
    ],
  },
  {
    name: 'no policies at all',
    identity: [],
    requests: [req(alice, 's3:GetObject', 'arn:aws:s3:::b/k')],
  },
]

// One case per request: the group's policies with that request.
export function cases() {
  const out = []
  for (const g of groups) {
    g.requests.forEach((r, i) => out.push({
      name: `${g.name} #${i + 1}`,
      identity: g.identity, boundary: g.boundary ?? null, session: g.session ?? null,
      resourcePolicy: g.resourcePolicy ?? null, ...r,
    }))
  }
  return out
}
