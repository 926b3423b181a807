import t from 'tap';
import { classifyAddress, classifyHostname, parseIPv4, parseIPv6 } from '../../security/ssrf.js';

const BLOCKED: ReadonlyArray<readonly [string, string]> = [
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['10.1.2.3', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.1.1', 'private'],
  ['169.254.1.1', 'link_local'],
  ['169.254.169.254', 'metadata'],
  ['169.254.170.2', 'metadata'],
  ['100.64.0.1', 'cgnat'],
  ['100.127.255.255', 'cgnat'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'unspecified'],
  ['255.255.255.255', 'broadcast'],
  ['240.0.0.1', 'reserved'],
  ['192.0.0.8', 'reserved'],
  ['198.18.0.1', 'benchmark'],
  ['198.19.255.255', 'benchmark'],
  ['192.0.2.1', 'documentation'],
  ['198.51.100.7', 'documentation'],
  ['203.0.113.9', 'documentation'],
  // obfuscated IPv4, parsed like inet_aton
  ['2130706433', 'loopback'],
  ['0x7f000001', 'loopback'],
  ['0177.0.0.1', 'loopback'],
  ['127.1', 'loopback'],
  ['127.0.1', 'loopback'],
  ['0x7f.0.0.1', 'loopback'],
  ['0x7f.1', 'loopback'],
  ['0251.0376.0251.0376', 'metadata'],
  ['0xa9fea9fe', 'metadata'],
  ['012.0x1.1', 'private'],
  // IPv6
  ['::1', 'loopback'],
  ['[::1]', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['::', 'unspecified'],
  ['fc00::1', 'private'],
  ['fd12:3456::1', 'private'],
  ['fe80::1', 'link_local'],
  ['fe80::1%eth0', 'link_local'],
  ['ff02::1', 'multicast'],
  ['fd00:ec2::254', 'metadata'],
  ['2001:db8::1', 'documentation'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::ffff:169.254.169.254', 'metadata'],
  ['::ffff:a9fe:a9fe', 'metadata'],
  ['::127.0.0.1', 'loopback'],
  ['::7f00:1', 'loopback'],
  ['::8.8.8.8', 'reserved'],
  ['64:ff9b::10.0.0.1', 'private'],
  ['64:ff9b::a9fe:a9fe', 'metadata'],
  ['2002:7f00:1::', 'loopback'],
  ['2002:c0a8:0101::1', 'private'],
  ['2001::1', 'reserved'],
];

t.test('internal, reserved and embedded addresses are blocked with their reason', async (t) => {
  for (const [address, reason] of BLOCKED) {
    const verdict = classifyAddress(address);
    t.equal(verdict.blocked, true, `${address} blocked`);
    t.equal(verdict.reason, reason, `${address} is ${reason}`);
  }
});

t.test('public addresses are allowed, including public IPv4 inside IPv6 forms', async (t) => {
  for (const address of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::8.8.8.8', '2002:808:808::1']) {
    t.equal(classifyAddress(address).blocked, false, address);
  }
});

t.test('text that is not an IP address is blocked as invalid', async (t) => {
  for (const bad of ['example.com', '1.2.3.4.5', '256.1.1.1', '08.1.1.1', '1::2::3', '::ffff:1.2.3', '0x100000000', '']) {
    t.same(classifyAddress(bad), { blocked: true, reason: 'invalid' }, bad);
  }
});

t.test('parseIPv4 follows inet_aton for short and mixed forms', async (t) => {
  t.equal(parseIPv4('1'), 1);
  t.equal(parseIPv4('1.2'), 0x01000002);
  t.equal(parseIPv4('1.2.3'), 0x01020003);
  t.equal(parseIPv4('0x1.0377.3'), 0x01ff0003);
  t.equal(parseIPv4('1.2.65536'), null, 'last part overflows its two bytes');
  t.equal(parseIPv4('1.2.3.4.'), 0x01020304, 'one trailing dot is allowed');
});

t.test('parseIPv6 expands compressed and dotted forms', async (t) => {
  t.same(parseIPv6('1::2'), [1, 0, 0, 0, 0, 0, 0, 2]);
  t.same(parseIPv6('::ffff:1.2.3.4'), [0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
  t.equal(parseIPv6('1:2:3:4:5:6:7:8:9'), null);
});

t.test('local and metadata hostnames are blocked before DNS', async (t) => {
  for (const [host, reason] of [
    ['localhost', 'loopback'],
    ['LOCALHOST.', 'loopback'],
    ['app.localhost', 'loopback'],
    ['metadata.google.internal', 'metadata'],
    ['metadata.google.internal.', 'metadata'],
    ['instance-data.ec2.internal', 'metadata'],
  ] as const) {
    t.same(classifyHostname(host), { blocked: true, reason }, host);
  }
});

t.test('an ordinary hostname needs DNS to be judged', async (t) => {
  t.equal(classifyHostname('example.com'), null);
});
