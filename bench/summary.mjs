#!/usr/bin/env node
// summary.mjs: turns bench results (TSV rows written by bench/lib.sh `timed`)
// into Markdown tables: the median of the repetitions, and ratios.
//
// Usage: node summary.mjs RESULTS.tsv

import { readFileSync } from 'node:fs';

const rows = readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map((l) => {
	const [fig, label, size, rep, wall, cpu, rss, load, extra] = l.split('\t');
	let json = null;
	try {
		json = extra ? JSON.parse(extra) : null;
	} catch {
		json = null;
	}
	return { fig, label, size, rep: +rep, wall: +wall, cpu: +cpu, rss: +rss, load: +load, json };
});

function median(xs) {
	const s = [...xs].sort((a, b) => a - b);
	if (!s.length)
		return NaN;
	return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

// group(fig, size, label): the rows of one measurement, with medians.
function group(fig, size, label) {
	const g = rows.filter((r) => r.fig === fig && r.size === size && r.label === label);
	if (!g.length)
		return null;
	return {
		n: g.length, rows: g,
		wall: median(g.map((r) => r.wall)), cpu: median(g.map((r) => r.cpu)),
		rss: median(g.map((r) => r.rss)), load: median(g.map((r) => r.load)),
		loads: g.map((r) => r.load),
	};
}

const sizes = (fig) => [...new Set(rows.filter((r) => r.fig === fig).map((r) => r.size))];
const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const mib = (kb) => f(kb / 1024, 0);
const loadRange = (g) => `${f(Math.min(...g.loads), 1)}–${f(Math.max(...g.loads), 1)}`;

function table(head, body) {
	console.log(`| ${head.join(' | ')} |`);
	console.log(`|${head.map(() => '---').join('|')}|`);
	for (const r of body)
		console.log(`| ${r.join(' | ')} |`);
	console.log('');
}

for (const [fig, title] of [['store-get', 'Small-blob GETs'], ['store-put', 'One large block upload']]) {
	for (const size of sizes(fig)) {
		const ours = group(fig, size, 'aiarchive-client');
		const sdk = group(fig, size, 'azure-sdk-js');
		if (!ours || !sdk)
			continue;
		console.log(`**${title}** (${fig}, ${size}; median of ${ours.n}):\n`);
		table(['client', 'wall s', 'CPU s (user+sys)', 'peak RSS MiB', 'load avg (1 min)'],
			[ours, sdk].map((g, i) => [i ? '@azure/storage-blob (Node)' : 'aiarchive store (C)',
				f(g.wall), f(g.cpu), mib(g.rss), loadRange(g)]));
		console.log(`Ratio (SDK / ours): wall ${f(sdk.wall / ours.wall)}x, CPU ${f(sdk.cpu / ours.cpu)}x, ` +
			`RSS ${f(sdk.rss / ours.rss)}x.\n`);
	}
}

for (const size of sizes('archive')) {
	const a = group('archive', size, 'aiarchive-run');
	const rc = group('archive', size, 'rclone-copy');
	const nv = group('archive', size, 'naive-script');
	if (!a)
		continue;
	const j = a.rows.find((r) => r.json)?.json;
	console.log(`**Archive run between two Azurites** (${size}: ${j ? j.blobs : '?'} blobs, ` +
		`${j ? f(j.bytes_in / 2 ** 20, 0) : '?'} MiB; median of ${a.n}):\n`);
	const body = [];
	for (const [name, g] of [['aiarchive run', a], ['rclone copy (no compression)', rc],
		['rclone copy --transfers 16 (no compression)', group('archive', size, 'rclone-copy-t16')],
		['naive script (rclone + gzip + sha256sum + minisign + rclone)', nv]]) {
		if (g)
			body.push([name, f(g.wall), f(g.cpu), mib(g.rss), f(g.wall / a.wall), loadRange(g)]);
	}
	table(['tool', 'wall s', 'CPU s', 'peak RSS MiB', 'wall vs aiarchive', 'load avg'], body);
	if (j)
		console.log(`aiarchive compression ratio (bytes in / bytes out): ${f(j.bytes_in / j.bytes_out)} ` +
			`(${j.bytes_in} / ${j.bytes_out}); ${j.packs} packs.\n`);
}

// The wide-area run (bench/wan.sh): each size is "<shape>-<size>"; the
// extra column has the proxies' counters for the source and the archive.
// First runs in one table, the runs again with nothing new in another.
const wanName = (l) => l === 'aiarchive-run' ? 'aiarchive run (default --jobs)'
	: l.startsWith('aiarchive-run-j') ? `aiarchive run --jobs ${l.split('-j')[1]}`
	: l === 'aiarchive-before' ? 'aiarchive run, the build before (its defaults)'
	: 'rclone copy --transfers 16 --checkers 16';
const wanRank = (l) => (l === 'aiarchive-run' ? 0 : l.startsWith('aiarchive-run-j') ? 1 + parseInt(l.split('-j')[1]) / 1000
	: l === 'aiarchive-before' ? 2 : 3);
for (const size of sizes('wan')) {
	const all = [...new Set(rows.filter((r) => r.fig === 'wan' && r.size === size).map((r) => r.label))];
	const j0 = rows.find((r) => r.fig === 'wan' && r.size === size && r.json)?.json;
	if (!j0)
		continue;
	const med = (g, fn) => median(g.rows.map((r) => (r.json ? fn(r.json) : NaN)));
	const reqs = (j) => j.src.requests + j.dst.requests;
	for (const again of [false, true]) {
		const labels = all.filter((l) => l.endsWith('-again') === again).map((l) => l.replace(/-again$/, ''))
			.sort((x, y) => wanRank(x) - wanRank(y));
		const sfx = again ? '-again' : '';
		const rc = group('wan', size, 'rclone-copy-t16' + sfx);
		if (!labels.length)
			continue;
		console.log(again
			? `**The same run again, nothing new** (${size}; median of ${group('wan', size, labels[0] + sfx).n}):\n`
			: `**Archive run at ${j0.delay} each way** (${size}: ${j0.blobs} blobs; source and archive ` +
			  `each behind faultproxy --delay; median of ${group('wan', size, labels[0]).n}):\n`);
		const body = labels.map((l) => {
			const g = group('wan', size, l + sfx);
			return [wanName(l), f(g.wall), again ? '—' : f(j0.blobs / g.wall, 0), f(g.cpu), mib(g.rss),
				`${f(med(g, (j) => j.src.requests), 0)} + ${f(med(g, (j) => j.dst.requests), 0)}`,
				again ? '—' : f(med(g, reqs) / j0.blobs, 2),
				again ? f(med(g, (j) => (j.src.bytesIn + j.src.bytesOut + j.dst.bytesIn + j.dst.bytesOut) / 1024), 0)
					: f(med(g, (j) => (j.src.bytesIn + j.src.bytesOut + j.dst.bytesIn + j.dst.bytesOut) / j0.blobs / 1024), 1),
				`${f(med(g, (j) => j.src.activeSeconds), 1)} / ${f(med(g, (j) => j.dst.activeSeconds), 1)}`,
				f(med(g, (j) => (j.src.busySeconds + j.dst.busySeconds)) / g.wall, 1),
				`${f(med(g, (j) => 1000 * (j.src.busySeconds + j.dst.busySeconds) / reqs(j)), 0)} ` +
					`(${f(med(g, (j) => 1000 * ((j.src.upstreamSeconds ?? NaN) + (j.dst.upstreamSeconds ?? NaN)) / reqs(j)), 0)})`,
				`${f(med(g, (j) => j.src.inFlightPeak), 0)} + ${f(med(g, (j) => j.dst.inFlightPeak), 0)}`,
				rc ? f(rc.wall / g.wall) : '—'];
		});
		table(['tool', 'wall s', 'blobs/s', 'CPU s', 'peak RSS MiB', 'requests (source + archive)',
			'requests / blob', again ? 'KiB on the wire' : 'KiB on the wire / blob',
			's with a request in flight (source / archive)', 'mean in flight',
			'ms a request (of it Azurite\'s)', 'peak in flight',
			'speed vs rclone'], body);
	}
}

for (const size of sizes('cpu')) {
	const a = group('cpu', size, 'aiarchive-local');
	const z = group('cpu', size, 'gzip6+sha256sum');
	if (!a || !z)
		continue;
	const j = a.rows.find((r) => r.json)?.json;
	const gib = j ? j.bytes_in / 2 ** 30 : NaN;
	console.log(`**CPU per GiB, local files** (${size}, ${f(gib, 3)} GiB; median of ${a.n}):\n`);
	table(['work', 'wall s', 'CPU s', 'CPU s / GiB', 'peak RSS MiB', 'load avg'], [
		['aiarchive run file:// → file://', f(a.wall), f(a.cpu), f(a.cpu / gib), mib(a.rss), loadRange(a)],
		['gzip -6 + sha256sum', f(z.wall), f(z.cpu), f(z.cpu / gib), mib(z.rss), loadRange(z)],
	]);
	console.log(`Ratio (aiarchive / gzip+sha256sum) CPU: ${f(a.cpu / z.cpu)}x.\n`);
}

const hist = sizes('history').sort((x, y) => parseInt(x.split('-')[1]) - parseInt(y.split('-')[1]));
if (hist.length) {
	console.log('**Requests of a run with nothing new, by history size**:\n');
	const body = [];
	for (const size of hist) {
		const first = group('history', size, 'first-run');
		const noop = group('history', size, 'noop-run');
		if (!noop)
			continue;
		const j = noop.rows.find((r) => r.json)?.json;
		const q = j.requests;
		const tot = (o) => Object.values(o).reduce((s, v) => s + v, 0);
		const kinds = (o) => Object.entries(o).filter(([, v]) => v).map(([k, v]) => `${k} ${v}`).join(', ');
		const same = noop.rows.every((r) => JSON.stringify(r.json?.requests) === JSON.stringify(q));
		body.push([size.replace('history-', ''), first ? f(first.wall, 1) : '—', f(noop.wall), kinds(q.source),
			kinds(q.dest), String(tot(q.source) + tot(q.dest)) + (same ? '' : ' (varied)')]);
	}
	table(['history blobs', 'first run wall s', 'no-op run wall s (median)', 'source requests',
		'destination requests', 'total requests'], body);
}

for (const size of sizes('manifest')) {
	const labels = [['query-hour-cold', 'query, one hour, no cache'], ['query-hour-warm', 'query, one hour, cache filled'],
		['cat-op-cold', 'cat --operation-id, one day, no cache'], ['cat-op-warm', 'cat --operation-id, one day, cache filled']];
	const groups = labels.map(([l, name]) => [name, group('manifest', size, l)]).filter(([, g]) => g);
	if (!groups.length)
		continue;
	const j0 = groups[0][1].rows.find((r) => r.json)?.json;
	console.log(`**Query and cat over a year's manifest** (${size}: ${j0 ? j0.segments : '?'} segments; ` +
		`median of ${groups[0][1].n}):\n`);
	const med = (g, k) => median(g.rows.map((r) => r.json?.[k] ?? NaN));
	table(['command', 'wall ms', 'CPU ms', 'peak RSS MiB', 'segments read (cached; ruled out by index)', 'members seen → matched',
		'manifest KiB read', 'requests', 'pack KiB read', 'pack bytes / day\'s pack bytes', 'load avg'],
	groups.map(([name, g]) => [name, f(g.wall * 1000, 0), f(g.cpu * 1000, 0), mib(g.rss),
		`${med(g, 'selected')} (${med(g, 'from_cache')}; ${med(g, 'ruled_out') || 0})`, `${med(g, 'members_seen')} → ${med(g, 'matched')}`,
		f(med(g, 'manifest_bytes') / 1024, 0), f(med(g, 'manifest_requests'), 0),
		f(med(g, 'pack_bytes') / 1024, 0),
		med(g, 'pack_bytes') ? `${f(100 * med(g, 'pack_bytes') / med(g, 'day_pack_bytes'), 3)}%` : '—',
		loadRange(g)]));
}

for (const size of sizes('auth')) {
	const k = group('auth', size, 'shared-key');
	const t = group('auth', size, 'bearer-token');
	if (!k || !t)
		continue;
	const fetch = group('auth', size, 'token-fetch');
	const j = k.rows.find((r) => r.json)?.json;
	const vals = (g, key) => [...new Set(g.rows.map((r) => r.json?.[key]))].sort((a, b) => a - b).join('–');
	const spread = (g) => `${f(Math.min(...g.rows.map((r) => r.wall)))}–${f(Math.max(...g.rows.map((r) => r.wall)))}`;
	console.log(`**Shared Key against a bearer token** (${size}: ${j ? j.blobs : '?'} blobs, ` +
		`${j ? f(j.bytes_in / 2 ** 20, 1) : '?'} MiB, HTTPS, Azurite --oauth basic; median of ${k.n}, alternating):\n`);
	table(['credential', 'storage requests (trace)', 'requests (run\'s summary)', '401/403', 'tokens fetched',
		'wall s (median)', 'wall s (min–max)', 'CPU s', 'peak RSS MiB', 'wall vs Shared Key', 'load avg'],
	[['Shared Key (account key)', k], ['bearer token (service principal)', t]].map(([name, g]) => [name,
		vals(g, 'trace_requests'), vals(g, 'summary_requests'), vals(g, 'auth_failures'), vals(g, 'tokens'),
		f(g.wall), spread(g), f(g.cpu), mib(g.rss), f(g.wall / k.wall), loadRange(g)]));
	if (fetch)
		console.log(`One token request on its own (curl, new TLS connection to the stub): median ` +
			`${f(median(fetch.rows.map((r) => r.json?.ms)), 1)} ms of ${fetch.n}.\n`);
}
