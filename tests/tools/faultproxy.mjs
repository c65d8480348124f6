#!/usr/bin/env node
// faultproxy.mjs: an HTTP proxy for the tests that forwards to one target and
// injects faults (error statuses, resets, stalls, delays, dropped connections)
// by rules that can be changed while it runs. Node standard library only.
//
// Usage: node faultproxy.mjs --target http(s)://127.0.0.1:PORT [--port N] [--host ADDR]
//                            [--cert FILE --key FILE] [--ca FILE]
//                            [--delay DURATION] [--rate RATE] [--stats FILE]
//                            [--rules JSON-ARRAY] [--rule JSON-OBJECT]... [--verbose]
//   Prints "port N" as its first line on stdout once it listens (--port 0, the
//   default, picks a free port). --host defaults to 127.0.0.1. SIGTERM/SIGINT stop it.
//   With --cert and --key it listens with TLS (a bearer token is only sent over
//   https); an https:// target is checked against --ca (else Node's own CAs).
//
// Latency mode, a wide-area link between the client and the target:
//   --delay DURATION  (e.g. 30ms, 0.03s) every request waits DURATION before it
//            is handled and every answer DURATION before its status line
//            reaches the client: one round trip costs 2 x DURATION more. The
//            first request on a new connection waits one more round trip, as
//            TCP's handshake does. Faults are delayed the same way.
//   --rate RATE  (e.g. 100Mbit, 12.5MB, 10MiB; "/s" may follow) the link's
//            bandwidth, shared by every connection, in each direction apart:
//            request and response bodies pass no faster.
//   --stats FILE  writes the counters of GET /__stats as JSON to FILE when the
//            proxy stops (- for stderr).
//
// Rules are tried in order; the first whose filters match and that has uses
// left handles the request. Fields:
//   action   "status" | "challenge" | "reset" | "stall" | "delay" | "drop" | "lose"
//            (required)
//   count    how many matching requests it applies to (default 1; -1: all)
//   skip     let this many matching requests pass untouched first (default 0)
//   method   "GET" or ["PUT","HEAD"]: only these methods
//   path     regular expression tested against the request target (path?query)
//   status   action status: HTTP status (default 503)
//   code     action status: the <Code> and x-ms-error-code (default by status,
//            e.g. 503 ServerBusy, 500 InternalError)
//   message  action status: the <Message> first line
//   retryAfter  action status: Retry-After header value (seconds)
//   bytes    reset/stall: response body bytes passed before the fault (default 0)
//   seconds  stall: how long to stop (omitted: until the client goes away);
//            delay: wait before forwarding (default 1)
//
//   status  answers itself with an Azure-style XML error; nothing is forwarded.
//   challenge  answers itself as Blob Storage answers a revoked or expired
//           bearer token: 401 InvalidAuthenticationInfo with
//           WWW-Authenticate: Bearer authorization_uri=... resource_id=...
//           (code and message override the error's); nothing is forwarded.
//   reset   forwards, then resets the client connection (TCP RST) after `bytes`
//           bytes of the response body.
//   stall   forwards, stops the response body after `bytes` bytes for `seconds`.
//   delay   waits `seconds`, then forwards.
//   drop    closes the client connection without any answer; nothing is forwarded.
//   lose    forwards, lets the target answer in full (so it has done what was
//           asked), then resets the client connection (TCP RST) without passing
//           any of the answer on: a write that landed but whose answer was lost.
//
// Control endpoints (answered by the proxy, never forwarded):
//   GET    /__fault   the rules with their `remaining`/`served` counters
//   PUT    /__fault   replace the rules (body: one rule object or an array)
//   POST   /__fault   append rule(s)
//   DELETE /__fault   remove every rule
//   GET    /__stats   {"requests","forwarded","faults","byAction":{..},
//                      "byOp":{"GET list":n,"PUT block":n,"HEAD":n,..},
//                      "connections","bytesIn","bytesOut","inFlightPeak",
//                      "busySeconds","activeSeconds","upstreamSeconds",
//                      "rules":[..],"recent":[{"method","url","action"}..]}
//                      byOp: requests by method and Blob operation (the comp=
//                      query parameter); bytesIn/bytesOut: bytes read from and
//                      written to the clients' connections, headers included;
//                      busySeconds: the requests' times summed, from arrival
//                      to the last byte of the answer; activeSeconds: the time
//                      with at least one request in flight (busy / active is
//                      the mean number in flight); upstreamSeconds: the
//                      forwarded requests' times summed from forwarding to
//                      the target's status line (the target's own share).
//   DELETE /__stats   zero the counters and the recent list
//
// Forwarding is transparent: the request line, raw header names, order and
// values (Host, Authorization, x-ms-*) and streamed bodies go through as sent,
// so Shared Key signatures computed for the target stay valid.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { Transform } from 'node:stream';
import { URL } from 'node:url';

const ACTIONS = new Set(['status', 'challenge', 'reset', 'stall', 'delay', 'drop', 'lose']);
const DEFAULT_CODES = {
	400: ['InvalidInput', 'One of the request inputs is not valid.'],
	401: ['InvalidAuthenticationInfo', 'Authentication information is not given in the correct format.'],
	403: ['AuthorizationFailure', 'This request is not authorized to perform this operation.'],
	404: ['ResourceNotFound', 'The specified resource does not exist.'],
	408: ['OperationTimedOut', 'The operation could not be completed within the permitted time.'],
	409: ['ResourceAlreadyExists', 'The specified resource already exists.'],
	412: ['ConditionNotMet', 'The condition specified using HTTP conditional header(s) is not met.'],
	429: ['ServerBusy', 'The server is busy.'],
	500: ['InternalError', 'The server encountered an internal error. Please retry the request.'],
	503: ['ServerBusy', 'The server is busy.'],
};
const RECENT_MAX = 200;

function usage(msg) {
	process.stderr.write(`faultproxy: ${msg}\n` +
		'usage: faultproxy.mjs --target http://HOST:PORT [--port N] [--host ADDR] ' +
		'[--delay DURATION] [--rate RATE] [--stats FILE] [--rules JSON] [--rule JSON]... [--verbose]\n');
	process.exit(2);
}

// Checks and normalises one rule; throws on a bad one so that a typo in a
// test fails loudly instead of silently injecting nothing.
function makeRule(r) {
	if (!r || typeof r !== 'object' || Array.isArray(r))
		throw new Error('a rule must be a JSON object');
	if (!ACTIONS.has(r.action))
		throw new Error(`unknown action ${JSON.stringify(r.action)}`);
	const known = new Set(['action', 'count', 'skip', 'method', 'path', 'status', 'code',
		'message', 'retryAfter', 'bytes', 'seconds']);
	for (const k of Object.keys(r))
		if (!known.has(k))
			throw new Error(`unknown rule field ${JSON.stringify(k)}`);
	const num = (k, def, min) => {
		if (r[k] === undefined || r[k] === null)
			return def;
		const v = Number(r[k]);
		if (!Number.isFinite(v) || v < min)
			throw new Error(`bad ${k}: ${JSON.stringify(r[k])}`);
		return v;
	};
	const rule = {
		action: r.action,
		count: Math.trunc(num('count', 1, -1)),
		skip: Math.trunc(num('skip', 0, 0)),
		method: r.method === undefined ? null
			: (Array.isArray(r.method) ? r.method : [r.method]).map((m) => String(m).toUpperCase()),
		path: r.path === undefined ? null : String(r.path),
		status: Math.trunc(num('status', 503, 100)),
		code: r.code === undefined ? null : String(r.code),
		message: r.message === undefined ? null : String(r.message),
		retryAfter: r.retryAfter === undefined ? null : String(r.retryAfter),
		bytes: Math.trunc(num('bytes', 0, 0)),
		seconds: num('seconds', r.action === 'delay' ? 1 : null, 0),
		served: 0,
		seen: 0,
	};
	if (rule.action === 'challenge')
		rule.status = 401;
	if (rule.status > 599)
		throw new Error(`bad status: ${rule.status}`);
	rule.re = rule.path === null ? null : new RegExp(rule.path);
	return rule;
}

// "30ms", "0.03s" -> milliseconds. A unit is required: a bare 30 could be
// either.
function parseDuration(text) {
	const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(String(text));
	if (!m)
		throw new Error(`bad duration ${JSON.stringify(text)} (say e.g. 30ms or 0.5s)`);
	return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
}

// "100Mbit", "12.5MB", "10MiB/s" -> bytes per second.
function parseRate(text) {
	const m = /^(\d+(?:\.\d+)?)([kKMG]i?)?(bit|B)(?:\/s)?$/.exec(String(text));
	if (!m || Number(m[1]) <= 0)
		throw new Error(`bad rate ${JSON.stringify(text)} (say e.g. 100Mbit, 12.5MB or 10MiB)`);
	const p = m[2] || '';
	const base = p.endsWith('i') ? 1024 : 1000;
	const exp = { '': 0, k: 1, K: 1, M: 2, G: 3 }[p.replace('i', '')];
	return Number(m[1]) * base ** exp / (m[3] === 'bit' ? 8 : 1);
}

function parseRules(text) {
	const v = JSON.parse(text);
	return (Array.isArray(v) ? v : [v]).map(makeRule);
}

const FIELDS = {
	status: ['status', 'code', 'message', 'retryAfter'],
	challenge: ['code', 'message'],
	reset: ['bytes'],
	stall: ['bytes', 'seconds'],
	delay: ['seconds'],
	drop: [],
	lose: [],
};

function showRule(r) {
	const out = { action: r.action, count: r.count };
	for (const k of ['skip', 'method', 'path', ...FIELDS[r.action]])
		if (r[k] !== null && !(k === 'skip' && r[k] === 0))
			out[k] = r[k];
	out.remaining = r.count < 0 ? -1 : r.count - r.served;
	out.served = r.served;
	return out;
}

const opts = { target: null, port: 0, host: '127.0.0.1', verbose: false, cert: null, key: null, ca: null,
	delayMs: 0, rate: 0, statsFile: null };
let rules = [];
{
	const argv = process.argv.slice(2);
	const next = (i) => {
		if (i + 1 >= argv.length)
			usage(`${argv[i]} needs a value`);
		return argv[i + 1];
	};
	try {
		for (let i = 0; i < argv.length; i++) {
			switch (argv[i]) {
			case '--target': opts.target = next(i++); break;
			case '--port': opts.port = Number(next(i++)); break;
			case '--host': opts.host = next(i++); break;
			case '--cert': opts.cert = next(i++); break;
			case '--key': opts.key = next(i++); break;
			case '--ca': opts.ca = next(i++); break;
			case '--delay': opts.delayMs = parseDuration(next(i++)); break;
			case '--rate': opts.rate = parseRate(next(i++)); break;
			case '--stats': opts.statsFile = next(i++); break;
			case '--rules':
			case '--rule':
				try {
					rules = rules.concat(parseRules(next(i++)));
				} catch (e) {
					usage(`bad rule: ${e.message}`);
				}
				break;
			case '--verbose': opts.verbose = true; break;
			case '--help': usage('help');
			default: usage(`unknown argument ${argv[i]}`);
			}
		}
	} catch (e) {
		usage(e.message);
	}
	if (!opts.target)
		usage('--target is required');
	if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535)
		usage('bad --port');
}
const target = new URL(opts.target);
if (target.protocol !== 'http:' && target.protocol !== 'https:')
	usage('--target must be an http:// or https:// URL');
if (!opts.cert !== !opts.key)
	usage('--cert and --key go together');
const upstream = target.protocol === 'https:' ? https : http;
const caText = opts.ca ? fs.readFileSync(opts.ca) : undefined;

const stats = { requests: 0, forwarded: 0, faults: 0, byAction: {}, recent: [] };
// Connections that carried requests other than control ones: their bytes are
// counted, the live ones when asked and the others when they close.
const liveSockets = new Set();
let inFlight = 0;
let activeSince = 0;
function resetStats() {
	stats.requests = stats.forwarded = stats.faults = 0;
	stats.byAction = { status: 0, challenge: 0, reset: 0, stall: 0, delay: 0, drop: 0, lose: 0 };
	stats.byOp = {};
	stats.connections = 0;
	stats.bytesIn = stats.bytesOut = 0;
	stats.inFlightPeak = inFlight;
	stats.busyMs = stats.activeMs = stats.upstreamMs = 0;
	activeSince = performance.now();
	// Bytes already moved on live connections are not the new count's.
	for (const sock of liveSockets) {
		sock.fpReadBase = sock.bytesRead;
		sock.fpWrittenBase = sock.bytesWritten;
	}
	stats.recent = [];
}
resetStats();

function socketBytes(sock) {
	return [sock.bytesRead - sock.fpReadBase, sock.bytesWritten - sock.fpWrittenBase];
}

function countSocket(sock) {
	if (sock.fpReadBase !== undefined)
		return;
	sock.fpReadBase = sock.fpWrittenBase = 0;
	stats.connections++;
	liveSockets.add(sock);
	sock.once('close', () => {
		const [r, w] = socketBytes(sock);
		stats.bytesIn += r;
		stats.bytesOut += w;
		liveSockets.delete(sock);
	});
}

// A request is in flight from its arrival to the end of its answer.
function trackRequest(res) {
	const t0 = performance.now();
	if (inFlight++ === 0)
		activeSince = t0;
	stats.inFlightPeak = Math.max(stats.inFlightPeak, inFlight);
	let ended = false;
	const end = () => {
		if (ended)
			return;
		ended = true;
		const t = performance.now();
		stats.busyMs += t - t0;
		if (--inFlight === 0)
			stats.activeMs += t - activeSince;
	};
	res.once('finish', end);
	res.once('close', end);
}

// "GET list", "PUT block", "HEAD": the method and the Blob operation.
function opOf(req) {
	const q = req.url.indexOf('?');
	const comp = q < 0 ? null : new URLSearchParams(req.url.slice(q + 1)).get('comp');
	return comp ? `${req.method} ${comp}` : req.method;
}

function statsJson() {
	let bytesIn = stats.bytesIn, bytesOut = stats.bytesOut;
	for (const sock of liveSockets) {
		const [r, w] = socketBytes(sock);
		bytesIn += r;
		bytesOut += w;
	}
	const now = performance.now();
	const activeMs = stats.activeMs + (inFlight > 0 ? now - activeSince : 0);
	return { requests: stats.requests, forwarded: stats.forwarded, faults: stats.faults,
		byAction: stats.byAction, byOp: stats.byOp, connections: stats.connections,
		bytesIn, bytesOut, inFlightPeak: stats.inFlightPeak,
		busySeconds: Number((stats.busyMs / 1000).toFixed(3)),
		activeSeconds: Number((activeMs / 1000).toFixed(3)),
		upstreamSeconds: Number((stats.upstreamMs / 1000).toFixed(3)),
		rules: rules.map(showRule), recent: stats.recent };
}

function log(msg) {
	if (opts.verbose)
		process.stderr.write(`faultproxy: ${msg}\n`);
}

// The first rule that applies to this request, with its counters updated.
function pickRule(req) {
	for (const r of rules) {
		if (r.count >= 0 && r.served >= r.count)
			continue;
		if (r.method && !r.method.includes(req.method))
			continue;
		if (r.re && !r.re.test(req.url))
			continue;
		r.seen++;
		if (r.seen <= r.skip)
			continue;
		r.served++;
		return r;
	}
	return null;
}

// Runs fn after ms unless the client's connection closes first.
function later(ms, sock, fn) {
	if (ms <= 0)
		return fn();
	const cancel = () => clearTimeout(t);
	const t = setTimeout(() => {
		sock.removeListener('close', cancel);
		fn();
	}, ms);
	sock.once('close', cancel);
}

// One direction of the link: a chunk arrives once the link has had the time
// to carry it after everything sent before it, whichever connection sent it.
const upLink = { free: 0 };
const downLink = { free: 0 };
function throttle(link) {
	return new Transform({
		transform(chunk, enc, cb) {
			const now = performance.now();
			link.free = Math.max(link.free, now) + chunk.length * 1000 / opts.rate;
			const wait = link.free - now;
			if (wait < 1)
				cb(null, chunk);
			else
				setTimeout(() => cb(null, chunk), wait);
		},
	});
}

// src.pipe(dst), at --rate when one is given.
function pipeBody(src, dst, link) {
	if (opts.rate > 0)
		src.pipe(throttle(link)).pipe(dst);
	else
		src.pipe(dst);
}

function sendJson(res, status, obj) {
	const body = JSON.stringify(obj, null, 1) + '\n';
	res.writeHead(status, { 'Content-Type': 'application/json',
		'Content-Length': Buffer.byteLength(body) });
	res.end(body);
}

function readBody(req) {
	return new Promise((resolve, reject) => {
		const parts = [];
		let n = 0;
		req.on('data', (c) => {
			n += c.length;
			if (n > 1 << 20) {
				reject(new Error('control body too large'));
				req.destroy();
				return;
			}
			parts.push(c);
		});
		req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
		req.on('error', reject);
	});
}

async function control(req, res) {
	const path = req.url.split('?')[0];
	try {
		if (path === '/__fault') {
			if (req.method === 'GET')
				return sendJson(res, 200, rules.map(showRule));
			if (req.method === 'DELETE') {
				rules = [];
				return sendJson(res, 200, []);
			}
			if (req.method === 'PUT' || req.method === 'POST') {
				const add = parseRules(await readBody(req));
				rules = req.method === 'PUT' ? add : rules.concat(add);
				return sendJson(res, 200, rules.map(showRule));
			}
		} else if (path === '/__stats') {
			if (req.method === 'GET')
				return sendJson(res, 200, statsJson());
			if (req.method === 'DELETE') {
				resetStats();
				for (const r of rules)
					r.served = r.seen = 0;
				return sendJson(res, 200, {});
			}
		}
		return sendJson(res, 405, { error: `${req.method} ${path} not supported` });
	} catch (e) {
		return sendJson(res, 400, { error: e.message });
	}
}

function xmlEscape(s) {
	return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;',
		'"': '&quot;', "'": '&apos;' })[c]);
}

// Answers like the Blob service does: status line message, x-ms-error-code,
// and an <Error> body whose Message carries RequestId and Time lines.
function answerStatus(req, res, rule) {
	const [defCode, defMsg] = DEFAULT_CODES[rule.status] || ['InternalError', 'Injected fault.'];
	const code = rule.code ?? defCode;
	const message = rule.message ?? defMsg;
	const rid = `faultproxy-${stats.requests}`;
	const body = '\ufeff<?xml version="1.0" encoding="utf-8"?><Error><Code>' + xmlEscape(code) +
		'</Code><Message>' + xmlEscape(message) + `\nRequestId:${rid}\nTime:` +
		new Date().toISOString() + '</Message></Error>';
	const headers = {
		'Content-Type': 'application/xml',
		'Content-Length': Buffer.byteLength(body),
		'x-ms-error-code': code,
		'x-ms-request-id': rid,
		'Date': new Date().toUTCString(),
	};
	if (rule.retryAfter !== null)
		headers['Retry-After'] = rule.retryAfter;
	if (rule.action === 'challenge')
		headers['WWW-Authenticate'] = 'Bearer authorization_uri=https://login.microsoftonline.com/' +
			'common/oauth2/authorize resource_id=https://storage.azure.com';
	// Reading the request body first keeps a client that is still sending
	// from seeing a reset instead of the answer.
	req.resume();
	const send = () => {
		res.writeHead(rule.status, message.split('\n')[0], headers);
		res.end(req.method === 'HEAD' ? undefined : body);
	};
	const sendLater = () => later(opts.delayMs, req.socket, send);
	if (req.complete)
		sendLater();
	else
		req.once('end', sendLater);
}

function resetClient(sock) {
	if (typeof sock.resetAndDestroy === 'function')
		sock.resetAndDestroy();
	else
		sock.destroy();
}

function forward(req, res, rule) {
	stats.forwarded++;
	const sent = performance.now();
	const up = upstream.request({
		host: target.hostname,
		port: target.port || (upstream === https ? 443 : 80),
		ca: caText,
		method: req.method,
		path: req.url,
		// rawHeaders keeps names, order, duplicates and the client's Host.
		headers: req.rawHeaders,
		setHost: false,
	});
	let done = false;
	const timers = [];
	const finish = () => {
		done = true;
		for (const t of timers)
			clearTimeout(t);
	};
	up.on('error', (e) => {
		log(`upstream error ${e.message}`);
		if (done)
			return;
		finish();
		if (!res.headersSent) {
			const body = `faultproxy: upstream error: ${e.message}\n`;
			res.writeHead(502, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
			res.end(body);
		} else {
			res.destroy();
		}
	});
	req.on('aborted', () => { finish(); up.destroy(); });
	res.on('close', () => {
		if (!res.writableFinished) {
			finish();
			up.destroy();
		}
	});
	up.once('response', () => { stats.upstreamMs += performance.now() - sent; });
	up.on('response', (ures) => later(opts.delayMs, req.socket, () => {
		// Faults destroy sockets on purpose; their errors are expected.
		ures.on('error', (e) => log(`upstream response error ${e.message}`));
		if (done)
			return;
		if (rule && rule.action === 'lose') {
			// The target's whole answer is read and thrown away.
			ures.resume();
			ures.on('end', () => {
				finish();
				log(`losing the answer ${ures.statusCode} to ${req.method} ${req.url}`);
				resetClient(req.socket);
			});
			return;
		}
		res.writeHead(ures.statusCode, ures.statusMessage, ures.rawHeaders);
		if (!rule || (rule.action !== 'reset' && rule.action !== 'stall')) {
			pipeBody(ures, res, downLink);
			ures.on('end', finish);
			return;
		}
		// Pass `bytes` body bytes, then fault.
		let left = rule.bytes;
		const fault = () => {
			ures.pause();
			if (rule.action === 'reset') {
				finish();
				// Let the bytes already written reach the client before the RST.
				res.socket?.uncork?.();
				const sock = req.socket;
				const t = setTimeout(() => { resetClient(sock); up.destroy(); }, 50);
				timers.push(t);
				return;
			}
			log(`stalling ${req.method} ${req.url}`);
			if (rule.seconds !== null) {
				timers.push(setTimeout(() => {
					if (done)
						return;
					ures.removeListener('data', onData);
					pipeBody(ures, res, downLink);
					ures.resume();
				}, rule.seconds * 1000));
			}
		};
		const onData = (chunk) => {
			if (done)
				return;
			if (chunk.length < left) {
				left -= chunk.length;
				res.write(chunk);
				return;
			}
			const head = chunk.subarray(0, left);
			const rest = chunk.subarray(left);
			left = 0;
			if (head.length)
				res.write(head);
			// Pause before unshifting so the rest is buffered, not lost.
			ures.pause();
			ures.removeListener('data', onData);
			if (rest.length)
				ures.unshift(rest);
			fault();
		};
		if (left === 0) {
			res.flushHeaders();
			fault();
		} else {
			ures.on('data', onData);
			ures.on('end', () => {
				// The body was shorter than `bytes`: the fault never triggers.
				if (!done && left > 0) {
					finish();
					res.end();
				}
			});
		}
	}));
	pipeBody(req, up, upLink);
}

function handle(req, res) {
	req.on('error', (e) => log(`client request error ${e.message}`));
	res.on('error', (e) => log(`client response error ${e.message}`));
	if (req.url.startsWith('/__fault') || req.url.startsWith('/__stats'))
		return control(req, res);
	stats.requests++;
	const op = opOf(req);
	stats.byOp[op] = (stats.byOp[op] || 0) + 1;
	countSocket(req.socket);
	trackRequest(res);
	// The first request on a connection also waits for TCP's handshake.
	const wait = opts.delayMs * (req.socket.fpUsed ? 1 : 3);
	req.socket.fpUsed = true;
	later(wait, req.socket, () => dispatch(req, res));
}

function dispatch(req, res) {
	const rule = pickRule(req);
	const action = rule ? rule.action : 'pass';
	stats.recent.push({ method: req.method, url: req.url, action });
	if (stats.recent.length > RECENT_MAX)
		stats.recent.shift();
	if (rule) {
		stats.faults++;
		stats.byAction[rule.action]++;
	}
	log(`${req.method} ${req.url} -> ${action}`);
	switch (action) {
	case 'status':
	case 'challenge':
		return answerStatus(req, res, rule);
	case 'drop':
		return req.socket.destroy();
	case 'delay':
		return later(rule.seconds * 1000, req.socket, () => forward(req, res, null));
	default:
		return forward(req, res, rule);
	}
}

const server = opts.cert
	? https.createServer({ cert: fs.readFileSync(opts.cert), key: fs.readFileSync(opts.key) }, handle)
	: http.createServer(handle);
// A stalled answer must stay stalled: no server-side timeouts.
server.requestTimeout = 0;
server.headersTimeout = 0;
server.keepAliveTimeout = 5000;
server.on('clientError', (err, sock) => {
	if (sock.writable && !sock.destroyed)
		sock.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
});
server.listen(opts.port, opts.host, () => {
	process.stdout.write(`port ${server.address().port}\n`);
});
const stop = () => {
	if (opts.statsFile !== null) {
		const text = JSON.stringify(statsJson()) + '\n';
		if (opts.statsFile === '-')
			process.stderr.write(text);
		else
			fs.writeFileSync(opts.statsFile, text);
	}
	server.close();
	server.closeAllConnections?.();
	process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
