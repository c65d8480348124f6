#!/usr/bin/env node
// faultproxy.mjs: an HTTP proxy for the tests that forwards to one target and
// injects faults (error statuses, resets, stalls, delays, dropped connections)
// by rules that can be changed while it runs. Node standard library only.
//
// Usage: node faultproxy.mjs --target http(s)://127.0.0.1:PORT [--port N] [--host ADDR]
//                            [--cert FILE --key FILE] [--ca FILE]
//                            [--rules JSON-ARRAY] [--rule JSON-OBJECT]... [--verbose]
//   Prints "port N" as its first line on stdout once it listens (--port 0, the
//   default, picks a free port). --host defaults to 127.0.0.1. SIGTERM/SIGINT stop it.
//   With --cert and --key it listens with TLS (a bearer token is only sent over
//   https); an https:// target is checked against --ca (else Node's own CAs).
//
// Rules are tried in order; the first whose filters match and that has uses
// left handles the request. Fields:
//   action   "status" | "challenge" | "reset" | "stall" | "delay" | "drop" (required)
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
//
// Control endpoints (answered by the proxy, never forwarded):
//   GET    /__fault   the rules with their `remaining`/`served` counters
//   PUT    /__fault   replace the rules (body: one rule object or an array)
//   POST   /__fault   append rule(s)
//   DELETE /__fault   remove every rule
//   GET    /__stats   {"requests","forwarded","faults","byAction":{..},
//                      "rules":[..],"recent":[{"method","url","action"}..]}
//   DELETE /__stats   zero the counters and the recent list
//
// Forwarding is transparent: the request line, raw header names, order and
// values (Host, Authorization, x-ms-*) and streamed bodies go through as sent,
// so Shared Key signatures computed for the target stay valid.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { URL } from 'node:url';

const ACTIONS = new Set(['status', 'challenge', 'reset', 'stall', 'delay', 'drop']);
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
		'[--rules JSON] [--rule JSON]... [--verbose]\n');
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

const opts = { target: null, port: 0, host: '127.0.0.1', verbose: false, cert: null, key: null, ca: null };
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
			case '--rules':
			case '--rule': rules = rules.concat(parseRules(next(i++))); break;
			case '--verbose': opts.verbose = true; break;
			case '--help': usage('help');
			default: usage(`unknown argument ${argv[i]}`);
			}
		}
	} catch (e) {
		usage(`bad rule: ${e.message}`);
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
function resetStats() {
	stats.requests = stats.forwarded = stats.faults = 0;
	stats.byAction = { status: 0, challenge: 0, reset: 0, stall: 0, delay: 0, drop: 0 };
	stats.recent = [];
}
resetStats();

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
				return sendJson(res, 200, { requests: stats.requests, forwarded: stats.forwarded,
					faults: stats.faults, byAction: stats.byAction,
					rules: rules.map(showRule), recent: stats.recent });
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
	if (req.complete)
		send();
	else
		req.once('end', send);
}

function resetClient(sock) {
	if (typeof sock.resetAndDestroy === 'function')
		sock.resetAndDestroy();
	else
		sock.destroy();
}

function forward(req, res, rule) {
	stats.forwarded++;
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
	up.on('response', (ures) => {
		// Faults destroy sockets on purpose; their errors are expected.
		ures.on('error', (e) => log(`upstream response error ${e.message}`));
		res.writeHead(ures.statusCode, ures.statusMessage, ures.rawHeaders);
		if (!rule || (rule.action !== 'reset' && rule.action !== 'stall')) {
			ures.pipe(res);
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
					ures.pipe(res);
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
	});
	req.pipe(up);
}

function handle(req, res) {
	req.on('error', (e) => log(`client request error ${e.message}`));
	res.on('error', (e) => log(`client response error ${e.message}`));
	if (req.url.startsWith('/__fault') || req.url.startsWith('/__stats'))
		return control(req, res);
	stats.requests++;
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
	case 'delay': {
		const t = setTimeout(() => forward(req, res, null), rule.seconds * 1000);
		req.socket.once('close', () => clearTimeout(t));
		return;
	}
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
	server.close();
	server.closeAllConnections?.();
	process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
