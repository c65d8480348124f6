#!/usr/bin/env node
// sdkbench.mjs: the @azure/storage-blob side of bench/store.sh, doing the
// same work as tools/storebench so the two clients can be compared.
//
// Usage: node sdkbench.mjs get CONTAINER [--prefix P] [--threads N]
//        node sdkbench.mjs put CONTAINER BLOB FILE [--block-size BYTES] [--threads N]
// The connection string comes from AZ_CONN. Prints one JSON line:
// {op, count, bytes, seconds}; seconds leave out the listing, as storebench does.

import { statSync } from 'node:fs';
import { BlobServiceClient } from '@azure/storage-blob';

function opts(argv) {
	const pos = [];
	const opt = {};
	for (let i = 0; i < argv.length; i++) {
		if (argv[i].startsWith('--'))
			opt[argv[i].slice(2)] = argv[++i];
		else
			pos.push(argv[i]);
	}
	return { pos, opt };
}

async function pool(items, limit, worker) {
	let next = 0;
	async function lane() {
		while (next < items.length)
			await worker(items[next++]);
	}
	await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

async function main() {
	const [op, ...rest] = process.argv.slice(2);
	const { pos, opt } = opts(rest);
	const threads = Number(opt.threads ?? 16);
	const svc = BlobServiceClient.fromConnectionString(process.env.AZ_CONN);
	const cc = svc.getContainerClient(pos[0]);
	if (op === 'get') {
		const names = [];
		for await (const b of cc.listBlobsFlat({ prefix: opt.prefix }))
			names.push(b.name);
		let bytes = 0;
		const t0 = process.hrtime.bigint();
		await pool(names, threads, async (name) => {
			const buf = await cc.getBlobClient(name).downloadToBuffer();
			bytes += buf.length;
		});
		const s = Number(process.hrtime.bigint() - t0) / 1e9;
		console.log(JSON.stringify({ op, count: names.length, bytes, seconds: Number(s.toFixed(3)) }));
	} else if (op === 'put') {
		const [, blob, file] = pos;
		const blockSize = Number(opt['block-size'] ?? 8 * 1024 * 1024);
		const size = statSync(file).size;
		const t0 = process.hrtime.bigint();
		// uploadFile reads each block from the file as it goes (never the whole file).
		await cc.getBlockBlobClient(blob).uploadFile(file, {
			blockSize, concurrency: threads, maxSingleShotSize: 0,
		});
		const s = Number(process.hrtime.bigint() - t0) / 1e9;
		console.log(JSON.stringify({
			op, count: Math.ceil(size / blockSize), bytes: size, seconds: Number(s.toFixed(3)),
		}));
	} else {
		process.stderr.write('usage: sdkbench.mjs get|put ...\n');
		process.exitCode = 2;
	}
}

await main();
