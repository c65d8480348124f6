#!/usr/bin/env node
// blobtool.mjs: an independent Blob Storage client for the end-to-end tests,
// built on the Azure SDK so the C client is checked against another implementation.
//
// Usage: node blobtool.mjs [--conn CONNSTR] COMMAND ARGS...
// The connection string comes from --conn or the AZ_CONN environment variable.
//
//   mkcontainer NAME...                    prints "NAME<TAB>created|exists" per container
//   upload-tree DIR [--append-steps K] [--split-mid-line]
//                                          top-level dirs of DIR (not starting with '.') are
//                                          containers; files below are blobs named by their
//                                          relative path. PT1H.json files become append blobs
//                                          written in K appends (cut at line ends unless
//                                          --split-mid-line), the rest block blobs.
//                                          One JSON line per blob: {container,blob,type,size,appends}
//   append-tree DIR                        like upload-tree, but every file is appended to its
//                                          append blob (created if missing), in one append:
//                                          the steps of a workspace data export. One JSON line
//                                          per blob: {container,blob,type,size,appended}
//   append CONTAINER BLOB FILE             appends FILE to an append blob (created if missing);
//                                          JSON line {container,blob,size,appendOffset,committedBlockCount}
//   put CONTAINER BLOB FILE                block blob; JSON line {container,blob,size,etag}
//   list CONTAINER [--prefix P] [--json]   one line per blob: NAME<TAB>SIZE<TAB>TYPE<TAB>ETAG
//                                          (TYPE is BlockBlob|AppendBlob|PageBlob), or with --json
//                                          JSON lines {name,size,type,etag}
//   list --all [--prefix P] [--json]       the same over every container, NAME being
//                                          CONTAINER/BLOB
//   list-containers                        one container name per line
//   get CONTAINER BLOB [--range START-END] raw bytes on stdout; END is inclusive and may be
//                                          left out ("100-" reads to the end)
//   download-tree CONTAINER [--prefix P] DIR
//                                          writes every blob to DIR/<blob name>; prints the
//                                          blob names, one per line
//   sas CONTAINER PERMS EXPIRY [--blob NAME] [--start TIME] [--account] [--sv VERSION]
//                                          prints a SAS query string (no leading '?'): a
//                                          container SAS, a blob SAS with --blob, or with
//                                          --account an account SAS over the blob service
//                                          (services b, resource types sco; CONTAINER is then
//                                          ignored). EXPIRY and TIME are ISO 8601 or relative
//                                          to now as +N or -N with unit s, m, h or d ("-1h"
//                                          gives an already expired SAS).
//   props CONTAINER BLOB                   JSON of the blob's properties and metadata
//   delete CONTAINER BLOB                  prints the deleted blob name
//
// ETags are printed without their quotes everywhere.
// Errors: one line "blobtool: COMMAND: message" on stderr; exit 2 for usage errors,
// 1 for everything else.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
	AccountSASPermissions,
	AccountSASResourceTypes,
	AccountSASServices,
	BlobSASPermissions,
	BlobServiceClient,
	ContainerSASPermissions,
	StorageSharedKeyCredential,
	generateAccountSASQueryParameters,
	generateBlobSASQueryParameters,
} from '@azure/storage-blob';

// Azurite 3.37 knows service versions up to 2026-06-06 and the SDK's default
// is newer; a pinned version keeps an SDK update from changing what is signed.
const DEFAULT_SAS_VERSION = '2025-11-05';
// Append Block takes at most 4 MiB per call on older service versions.
const MAX_APPEND = 4 * 1024 * 1024;
const PARALLEL = 32;
// Response fields that describe the request, not the blob.
const NOT_PROPS = new Set(['body', 'clientRequestId', 'requestId', 'date', 'version']);

class UsageError extends Error {}

function usage(msg) {
	throw new UsageError(msg);
}

// parseArgs splits ARGV into positionals and --options; flags listed in
// BOOLEAN take no value.
function parseArgs(argv, boolean = []) {
	const pos = [];
	const opt = {};
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a === '--') {
			pos.push(...argv.slice(i + 1));
			break;
		}
		if (!a.startsWith('--') || a === '-') {
			pos.push(a);
			continue;
		}
		const eq = a.indexOf('=');
		const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
		if (boolean.includes(name)) {
			opt[name] = true;
		} else if (eq > 0) {
			opt[name] = a.slice(eq + 1);
		} else {
			if (i + 1 >= argv.length)
				usage(`option --${name} needs a value`);
			opt[name] = argv[++i];
		}
	}
	return { pos, opt };
}

function parseConn(conn) {
	const kv = {};
	for (const part of conn.split(';')) {
		const eq = part.indexOf('=');
		if (eq > 0)
			kv[part.slice(0, eq)] = part.slice(eq + 1);
	}
	return kv;
}

function client(conn) {
	// Fail fast: a test that stops the service wants an error, not minutes of retries.
	return BlobServiceClient.fromConnectionString(conn, {
		retryOptions: { maxTries: 3, retryDelayInMs: 100, maxRetryDelayInMs: 500 },
	});
}

function credential(conn) {
	const kv = parseConn(conn);
	if (!kv.AccountName || !kv.AccountKey)
		usage('the connection string needs AccountName and AccountKey');
	return new StorageSharedKeyCredential(kv.AccountName, kv.AccountKey);
}

// parseTime accepts ISO 8601 or +N/-N with unit s, m, h, d relative to now.
function parseTime(s) {
	const m = /^([+-])(\d+)([smhd])$/.exec(s);
	if (m) {
		const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[3]];
		return new Date(Date.now() + (m[1] === '-' ? -1 : 1) * Number(m[2]) * unit);
	}
	const d = new Date(s);
	if (Number.isNaN(d.getTime()))
		usage(`'${s}' is not a time`);
	return d;
}

// runPool runs WORKER over ITEMS with at most LIMIT calls in flight and
// stops at the first failure.
async function runPool(items, limit, worker) {
	let next = 0;
	let failed = null;
	async function lane() {
		while (failed === null && next < items.length) {
			const item = items[next++];
			try {
				await worker(item);
			} catch (e) {
				failed ??= e;
			}
		}
	}
	await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
	if (failed !== null)
		throw failed;
}

// Files under dir, sorted; one array filled along the walk (spreading a
// subtree's list into push would overflow the stack past ~100,000 names).
async function walkFiles(dir, rel = '', out = []) {
	const entries = await fsp.readdir(path.join(dir, rel), { withFileTypes: true });
	entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
	for (const e of entries) {
		const r = rel ? `${rel}/${e.name}` : e.name;
		if (e.isDirectory())
			await walkFiles(dir, r, out);
		else if (e.isFile())
			out.push(r);
	}
	return out;
}

// treeJobs creates a container per top-level directory of DIR (not starting
// with '.') and returns one {container, blob} per file below it.
async function treeJobs(svc, dir) {
	const tops = (await fsp.readdir(dir, { withFileTypes: true }))
		.filter((e) => e.isDirectory() && !e.name.startsWith('.'))
		.map((e) => e.name)
		.sort();
	const jobs = [];
	for (const c of tops) {
		await svc.getContainerClient(c).createIfNotExists();
		for (const rel of await walkFiles(path.join(dir, c)))
			jobs.push({ container: c, blob: rel });
	}
	return jobs;
}

// appendCuts splits LEN bytes of DATA into STEPS roughly equal pieces,
// moving each cut to just after the next newline unless MIDLINE is set, so
// that a reader polling the blob sees whole lines; empty pieces are dropped.
function appendCuts(data, steps, midLine) {
	const cuts = [0];
	for (let i = 1; i < steps; i++) {
		let c = Math.floor((data.length * i) / steps);
		if (!midLine) {
			const nl = data.indexOf(0x0a, Math.max(c - 1, 0));
			c = nl < 0 ? data.length : nl + 1;
		}
		if (c > cuts[cuts.length - 1] && c < data.length)
			cuts.push(c);
	}
	cuts.push(data.length);
	const pieces = [];
	for (let i = 0; i + 1 < cuts.length; i++) {
		if (cuts[i + 1] > cuts[i])
			pieces.push(data.subarray(cuts[i], cuts[i + 1]));
	}
	return pieces;
}

// List Blobs gives ETags bare, response headers quoted; print them all bare.
function bareEtag(etag) {
	return typeof etag === 'string' ? etag.replace(/^"(.*)"$/, '$1') : etag;
}

async function appendBytes(blob, data) {
	let last = null;
	for (let off = 0; off < data.length; off += MAX_APPEND) {
		const piece = data.subarray(off, Math.min(off + MAX_APPEND, data.length));
		last = await blob.appendBlock(piece, piece.length);
	}
	return last;
}

const commands = {
	async mkcontainer(svc, argv) {
		const { pos } = parseArgs(argv);
		if (pos.length === 0)
			usage('usage: mkcontainer NAME...');
		for (const name of pos) {
			const r = await svc.getContainerClient(name).createIfNotExists();
			console.log(`${name}\t${r.succeeded ? 'created' : 'exists'}`);
		}
	},

	async 'upload-tree'(svc, argv) {
		const { pos, opt } = parseArgs(argv, ['split-mid-line']);
		if (pos.length !== 1)
			usage('usage: upload-tree DIR [--append-steps K] [--split-mid-line]');
		const steps = Number(opt['append-steps'] ?? 1);
		if (!Number.isInteger(steps) || steps < 1)
			usage('--append-steps wants a positive integer');
		const dir = pos[0];
		const jobs = await treeJobs(svc, dir);
		await runPool(jobs, PARALLEL, async ({ container, blob }) => {
			const file = path.join(dir, container, blob);
			const cc = svc.getContainerClient(container);
			let rec;
			if (path.posix.basename(blob) === 'PT1H.json') {
				const data = await fsp.readFile(file);
				const ab = cc.getAppendBlobClient(blob);
				await ab.create();
				const pieces = appendCuts(data, steps, !!opt['split-mid-line']);
				for (const p of pieces)
					await appendBytes(ab, p);
				rec = { type: 'AppendBlob', size: data.length, appends: pieces.length };
			} else {
				const st = await fsp.stat(file);
				await cc.getBlockBlobClient(blob).uploadFile(file);
				rec = { type: 'BlockBlob', size: st.size };
			}
			console.log(JSON.stringify({ container, blob, ...rec }));
		});
	},

	async 'append-tree'(svc, argv) {
		const { pos } = parseArgs(argv);
		if (pos.length !== 1)
			usage('usage: append-tree DIR');
		const dir = pos[0];
		const jobs = await treeJobs(svc, dir);
		await runPool(jobs, PARALLEL, async ({ container, blob }) => {
			const data = await fsp.readFile(path.join(dir, container, blob));
			const ab = svc.getContainerClient(container).getAppendBlobClient(blob);
			await ab.createIfNotExists();
			const r = await appendBytes(ab, data);
			const size = r ? Number(r.blobAppendOffset) + data.length : data.length;
			console.log(JSON.stringify({ container, blob, type: 'AppendBlob', size,
				appended: data.length }));
		});
	},

	async append(svc, argv) {
		const { pos } = parseArgs(argv);
		if (pos.length !== 3)
			usage('usage: append CONTAINER BLOB FILE');
		const [container, name, file] = pos;
		const data = await fsp.readFile(file);
		const ab = svc.getContainerClient(container).getAppendBlobClient(name);
		await ab.createIfNotExists();
		const r = await appendBytes(ab, data);
		console.log(JSON.stringify({
			container, blob: name, size: data.length,
			appendOffset: r ? Number(r.blobAppendOffset) : null,
			committedBlockCount: r ? r.blobCommittedBlockCount : null,
		}));
	},

	async put(svc, argv) {
		const { pos } = parseArgs(argv);
		if (pos.length !== 3)
			usage('usage: put CONTAINER BLOB FILE');
		const [container, name, file] = pos;
		const st = await fsp.stat(file);
		const r = await svc.getContainerClient(container).getBlockBlobClient(name).uploadFile(file);
		console.log(JSON.stringify({ container, blob: name, size: st.size, etag: bareEtag(r.etag) }));
	},

	async list(svc, argv) {
		const { pos, opt } = parseArgs(argv, ['json', 'all']);
		if (pos.length !== (opt.all ? 0 : 1))
			usage('usage: list CONTAINER [--prefix P] [--json] | list --all [--prefix P] [--json]');
		const containers = [];
		if (opt.all) {
			for await (const c of svc.listContainers())
				containers.push(c.name);
		} else {
			containers.push(pos[0]);
		}
		const lines = [];
		for (const c of containers) {
			for await (const b of svc.getContainerClient(c).listBlobsFlat({ prefix: opt.prefix })) {
				const rec = {
					name: opt.all ? `${c}/${b.name}` : b.name, size: b.properties.contentLength,
					type: b.properties.blobType, etag: bareEtag(b.properties.etag),
				};
				lines.push(opt.json ? JSON.stringify(rec) : [rec.name, rec.size, rec.type, rec.etag].join('\t'));
			}
		}
		if (lines.length)
			process.stdout.write(lines.join('\n') + '\n');
	},

	async 'list-containers'(svc, argv) {
		const { pos } = parseArgs(argv);
		if (pos.length !== 0)
			usage('usage: list-containers');
		for await (const c of svc.listContainers())
			console.log(c.name);
	},

	async get(svc, argv) {
		const { pos, opt } = parseArgs(argv);
		if (pos.length !== 2)
			usage('usage: get CONTAINER BLOB [--range START-END]');
		let offset = 0;
		let count;
		if (opt.range !== undefined) {
			const m = /^(\d+)-(\d*)$/.exec(opt.range);
			if (!m || (m[2] !== '' && Number(m[2]) < Number(m[1])))
				usage(`'${opt.range}' is not a range START-END`);
			offset = Number(m[1]);
			if (m[2] !== '')
				count = Number(m[2]) - offset + 1;
		}
		const blob = svc.getContainerClient(pos[0]).getBlobClient(pos[1]);
		const r = await blob.download(offset, count);
		await pipeline(r.readableStreamBody, process.stdout, { end: false });
	},

	async 'download-tree'(svc, argv) {
		const { pos, opt } = parseArgs(argv);
		if (pos.length !== 2)
			usage('usage: download-tree CONTAINER [--prefix P] DIR');
		const [container, dir] = pos;
		const cc = svc.getContainerClient(container);
		const names = [];
		for await (const b of cc.listBlobsFlat({ prefix: opt.prefix }))
			names.push(b.name);
		const root = path.resolve(dir);
		await runPool(names, PARALLEL, async (name) => {
			const file = path.resolve(root, name);
			if (!file.startsWith(root + path.sep))
				throw new Error(`blob name '${name}' leaves the target directory`);
			await fsp.mkdir(path.dirname(file), { recursive: true });
			await cc.getBlobClient(name).downloadToFile(file);
		});
		if (names.length)
			process.stdout.write(names.join('\n') + '\n');
	},

	async sas(svc, argv, conn) {
		const { pos, opt } = parseArgs(argv, ['account']);
		if (pos.length !== 3)
			usage('usage: sas CONTAINER PERMS EXPIRY [--blob NAME] [--start TIME] [--account] [--sv VERSION]');
		const [container, perms, expiry] = pos;
		const values = {
			expiresOn: parseTime(expiry),
			startsOn: opt.start !== undefined ? parseTime(opt.start) : undefined,
			version: opt.sv ?? DEFAULT_SAS_VERSION,
		};
		const cred = credential(conn);
		let q;
		if (opt.account) {
			q = generateAccountSASQueryParameters({
				...values,
				permissions: AccountSASPermissions.parse(perms),
				services: AccountSASServices.parse('b').toString(),
				resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
			}, cred);
		} else if (opt.blob !== undefined) {
			q = generateBlobSASQueryParameters({
				...values, containerName: container, blobName: opt.blob,
				permissions: BlobSASPermissions.parse(perms),
			}, cred);
		} else {
			q = generateBlobSASQueryParameters({
				...values, containerName: container,
				permissions: ContainerSASPermissions.parse(perms),
			}, cred);
		}
		console.log(q.toString());
	},

	async props(svc, argv) {
		const { pos } = parseArgs(argv);
		if (pos.length !== 2)
			usage('usage: props CONTAINER BLOB');
		const p = await svc.getContainerClient(pos[0]).getBlobClient(pos[1]).getProperties();
		const out = {};
		for (const [k, v] of Object.entries(p)) {
			if (k.startsWith('_') || NOT_PROPS.has(k) || v === undefined || typeof v === 'function')
				continue;
			out[k] = v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v;
		}
		out.etag = bareEtag(out.etag);
		console.log(JSON.stringify(out));
	},

	async delete(svc, argv) {
		const { pos } = parseArgs(argv);
		if (pos.length !== 2)
			usage('usage: delete CONTAINER BLOB');
		await svc.getContainerClient(pos[0]).getBlobClient(pos[1]).delete();
		console.log(pos[1]);
	},
};

// oneLine turns an SDK error into "STATUS CODE: first line of the message".
// A HEAD request has no body, so its error code comes only from the header.
function oneLine(e) {
	const first = String(e?.message ?? e).split('\n')[0].trim();
	const code = e?.details?.errorCode ?? e?.code;
	const parts = [];
	if (e?.statusCode)
		parts.push(String(e.statusCode));
	if (code && !first.includes(code))
		parts.push(code);
	if (!parts.length)
		return first;
	return first ? `${parts.join(' ')}: ${first}` : parts.join(' ');
}

async function main() {
	let argv = process.argv.slice(2);
	let conn = process.env.AZ_CONN;
	if (argv[0] === '--conn') {
		conn = argv[1];
		argv = argv.slice(2);
	} else if (argv[0]?.startsWith('--conn=')) {
		conn = argv[0].slice('--conn='.length);
		argv = argv.slice(1);
	}
	const [cmd, ...rest] = argv;
	try {
		if (!cmd || !Object.hasOwn(commands, cmd))
			usage(cmd ? `unknown command '${cmd}'` : 'no command given');
		if (!conn)
			usage('no connection string: set AZ_CONN or pass --conn');
		await commands[cmd](client(conn), rest, conn);
	} catch (e) {
		process.stderr.write(`blobtool: ${cmd ?? ''}${cmd ? ': ' : ''}${oneLine(e)}\n`);
		process.exitCode = e instanceof UsageError ? 2 : 1;
	}
}

await main();
