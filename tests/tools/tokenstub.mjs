#!/usr/bin/env node
// tokenstub.mjs: the Microsoft Entra ID side of the tests, on 127.0.0.1. It
// plays the endpoints aiarchive asks for tokens, checks the shape of every
// request it gets, and issues unsigned JWTs that Azurite's `--oauth basic`
// accepts. It can also stand in front of an Azurite over HTTPS and answer
// a revoked token with the service's 401 Bearer challenge. Node standard
// library only.
//
// Usage: node tokenstub.mjs --cert FILE --key FILE [--ca FILE] [--target URL]
//                           [--tenant TID] [--client-id ID] [--secret S]
//                           [--sp-cert FILE] [--fed-token FILE]
//                           [--identity-header H] [--arc-file PATH] [--mi-client-id ID]
//                           [--lifetime SECONDS] [--audience AUD]
//   Prints one line {"http":PORT,"https":PORT} once both listen.
//
// On http://127.0.0.1:HTTP (the local identity endpoints, never TLS):
//   GET /metadata/identity/oauth2/token   IMDS: Metadata: true, api-version
//       2018-02-01, resource https://storage.azure.com, at most one of client_id /
//       object_id / msi_res_id, which must name --mi-client-id (else 400
//       "Identity not found", as IMDS says); a probe without Metadata gets
//       IMDS's 400 at once
//   GET /appservice/token   App Service: X-IDENTITY-HEADER = --identity-header,
//       api-version 2019-08-01
//   GET /arc/token   Azure Arc: api-version 2020-06-01; without Authorization,
//       401 with WWW-Authenticate: Basic realm=--arc-file (or /__set's arcFile);
//       with "Basic <the file's content>", a token. While /__set's "arc" is
//       true, the IMDS path answers as Arc does (the agent serves
//       /metadata/identity/oauth2/token on localhost:40342)
// On https://127.0.0.1:HTTPS:
//   POST /TENANT/oauth2/v2.0/token   Entra: form grant_type=client_credentials,
//       client_id, scope https://storage.azure.com/.default, and client_secret
//       = --secret, or client_assertion_type jwt-bearer with client_assertion =
//       the content of --fed-token (read at each request), or a JWT signed
//       RS256 by --sp-cert's key (x5t, aud = this URL, iss = sub = client id,
//       nbf/iat now, exp 10 minutes later)
//   anything else: forwarded to --target (Azurite over https); a request whose
//       bearer token was revoked gets 401 InvalidAuthenticationInfo with the
//       WWW-Authenticate: Bearer challenge
// Control (either listener):
//   GET  /__stats   {"issued":{"imds":n,...},"rejected":[reasons],"proxied":n,
//                    "challenged":n,"forbidden":n,"authFailures":n (401/403 from
//                    the target),"tokens":[{kind,jti,exp}]}
//   POST /__set     JSON: {"lifetime":s,"audience":"...","fail":"imds-503:2"|
//                    "imds-400"|"entra-401"|null,"revokeAfter":n,"refreshIn":s,
//                    "forbid":"PUT"|null,"delayMs":n,"arc":bool,"arcFile":path}
//                   revokeAfter: after n more proxied requests, revoke every
//                   token issued so far; forbid: answer every proxied request
//                   of that method 403 AuthorizationPermissionMismatch (a
//                   missing RBAC role); delayMs: hold each proxied request
//   GET /cli/token  (http) what `az account get-access-token -o json` prints,
//                   for a stand-in az
// A request that does not have the expected shape is answered 400
// {"error":"invalid_request","error_description":"stub: ..."} and the reason
// is kept in "rejected", which the tests check is empty.
import http from 'node:http';
import https from 'node:https';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { URL } from 'node:url';

const args = {};
for (let i = 2; i < process.argv.length; i++) {
	const a = process.argv[i];
	if (!a.startsWith('--')) throw new Error(`bad argument ${a}`);
	args[a.slice(2)] = process.argv[++i];
}
const tenant = args.tenant || '72f988bf-86f1-41af-91ab-2d7cd011db47';
const state = {
	lifetime: Number(args.lifetime || 3600),
	audience: args.audience || 'https://storage.azure.com',
	fail: null,
	failLeft: 0,
	revokeAfter: -1,
	refreshIn: 0,
	forbid: null,
	delayMs: 0,
	arc: false,
	arcFile: null,
};
const stats = { issued: {}, rejected: [], proxied: 0, challenged: 0, forbidden: 0, authFailures: 0, tokens: [] };
const revoked = new Set();
let seq = 0;

const b64u = (buf) => Buffer.from(buf).toString('base64url');

function issue(kind) {
	const now = Math.floor(Date.now() / 1000);
	const exp = now + state.lifetime;
	const jti = `stub-${++seq}`;
	const header = { alg: 'none', typ: 'JWT' };
	const claims = {
		aud: state.audience,
		iss: `https://sts.windows.net/${tenant}/`,
		nbf: now - 60,
		iat: now - 60,
		exp,
		oid: '00000000-0000-0000-0000-00000000aaaa',
		tid: tenant,
		jti,
	};
	stats.issued[kind] = (stats.issued[kind] || 0) + 1;
	stats.tokens.push({ kind, jti, exp });
	return { token: `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}.`, exp, now };
}

function send(res, status, body, headers = {}) {
	const text = typeof body === 'string' ? body : JSON.stringify(body);
	res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
	res.end(text);
}

function reject(res, why) {
	stats.rejected.push(why);
	send(res, 400, { error: 'invalid_request', error_description: `stub: ${why}` });
}

// "imds-503:2" fails the next 2 IMDS requests with 503.
function injected(kind) {
	if (!state.fail || !state.fail.startsWith(kind + '-')) return 0;
	if (state.failLeft === 0) return 0;
	if (state.failLeft > 0) state.failLeft--;
	return Number(state.fail.slice(kind.length + 1).split(':')[0]);
}

// A user-assigned identity named by client_id / object_id / *_res_id must be
// --mi-client-id (or its object_id=... or resource id form); else IMDS's 400.
function identityParam(q, names) {
	const given = names.map((n) => [n, q.get(n)]).filter(([, v]) => v !== null);
	if (given.length > 1) return { why: `more than one of ${names.join(', ')}` };
	if (!given.length) return {};
	const want = args['mi-client-id'] || '';
	const [name, value] = given[0];
	const ok = want.startsWith('/') ? name.endsWith('res_id') && value === want
		: want.startsWith('object_id=') ? (name === 'object_id' || name === 'principal_id') && value === want.slice(10)
		: name === 'client_id' && value === want;
	return ok ? {} : { unknown: true };
}

function managed(req, res, u) {
	const q = u.searchParams;
	let kind, why = null, id = {};
	const arcFile = state.arcFile || args['arc-file'];
	if (u.pathname === '/metadata/identity/oauth2/token' && !state.arc) {
		kind = 'imds';
		// what IMDS answers a probe without the header, at once
		if (req.headers.metadata === undefined && !q.has('api-version')) {
			stats.probes = (stats.probes || 0) + 1;
			return send(res, 400, { error: 'invalid_request', error_description: 'Required metadata header not specified' });
		}
		if (req.headers.metadata !== 'true') why = 'IMDS without Metadata: true';
		else if (q.get('api-version') !== '2018-02-01') why = `IMDS api-version ${q.get('api-version')}`;
		else ({ why = null, ...id } = identityParam(q, ['client_id', 'object_id', 'msi_res_id']));
	} else if (u.pathname === '/appservice/token') {
		kind = 'appservice';
		if (req.headers['x-identity-header'] !== args['identity-header']) why = 'App Service without the right X-IDENTITY-HEADER';
		else if (q.get('api-version') !== '2019-08-01') why = `App Service api-version ${q.get('api-version')}`;
		else ({ why = null, ...id } = identityParam(q, ['client_id', 'principal_id', 'mi_res_id']));
	} else if (u.pathname === '/arc/token' || u.pathname === '/metadata/identity/oauth2/token') {
		kind = 'arc';
		if (req.headers.metadata !== 'true') why = 'Arc without Metadata: true';
		else if (q.get('api-version') !== '2020-06-01') why = `Arc api-version ${q.get('api-version')}`;
		else if (!req.headers.authorization) {
			stats.issued.arcChallenge = (stats.issued.arcChallenge || 0) + 1;
			return send(res, 401, { error: 'unauthorized' }, { 'WWW-Authenticate': `Basic realm=${arcFile}` });
		} else {
			let secret = '';
			try { secret = fs.readFileSync(arcFile, 'utf8').trim(); } catch { /* none */ }
			if (req.headers.authorization !== `Basic ${secret}`) why = 'Arc with the wrong Basic secret';
		}
	} else if (u.pathname === '/cli/token') {
		// what a stand-in `az account get-access-token -o json` prints
		const t = issue('cli');
		return send(res, 200, {
			accessToken: t.token, expiresOn: new Date(t.exp * 1000).toISOString().replace('T', ' ').slice(0, 19),
			expires_on: t.exp, subscription: 'sub', tenant, tokenType: 'Bearer',
		});
	} else {
		return send(res, 404, { error: 'not_found' });
	}
	if (!why && q.get('resource') !== 'https://storage.azure.com') why = `${kind} resource ${q.get('resource')}`;
	if (!why && req.headers['proxy-authorization']) why = `${kind} came through a proxy`;
	if (why) return reject(res, why);
	if (id.unknown) return send(res, 400, { error: 'invalid_request', error_description: 'Identity not found' });
	const st = injected(kind);
	if (st === 400) return send(res, 400, { error: 'invalid_request', error_description: 'Identity not found' });
	if (st) return send(res, st, { error: 'busy' });
	const t = issue(kind);
	const body = {
		access_token: t.token, client_id: args['client-id'] || 'system', expires_in: String(state.lifetime),
		expires_on: String(t.exp), ext_expires_in: String(state.lifetime), not_before: String(t.now),
		resource: 'https://storage.azure.com', token_type: 'Bearer',
	};
	if (kind === 'imds' && state.lifetime % 2 === 1) body.expires_on = t.exp; // numbers too, now and then
	send(res, 200, body);
}

function checkAssertion(jwt, tokenUrl, clientId) {
	const parts = jwt.split('.');
	if (parts.length !== 3) return 'the assertion is not a JWT';
	let header, claims;
	try {
		header = JSON.parse(Buffer.from(parts[0], 'base64url'));
		claims = JSON.parse(Buffer.from(parts[1], 'base64url'));
	} catch { return 'the assertion does not decode'; }
	const cert = new crypto.X509Certificate(fs.readFileSync(args['sp-cert']));
	const x5t = b64u(crypto.createHash('sha1').update(cert.raw).digest());
	if (header.alg !== 'RS256' || header.typ !== 'JWT') return `assertion header ${JSON.stringify(header)}`;
	if (header.x5t !== x5t) return `assertion x5t ${header.x5t}, wanted ${x5t}`;
	if (header.kid !== crypto.createHash('sha1').update(cert.raw).digest('hex').toUpperCase()) return 'assertion kid';
	const ok = crypto.verify('RSA-SHA256', Buffer.from(`${parts[0]}.${parts[1]}`), cert.publicKey, Buffer.from(parts[2], 'base64url'));
	if (!ok) return 'the assertion signature does not verify with the certificate';
	const now = Math.floor(Date.now() / 1000);
	if (claims.aud !== tokenUrl) return `assertion aud ${claims.aud}, wanted ${tokenUrl}`;
	if (claims.iss !== clientId || claims.sub !== clientId) return 'assertion iss/sub';
	if (!claims.jti || Math.abs(claims.nbf - now) > 60 || claims.iat !== claims.nbf || claims.exp - claims.nbf !== 600)
		return `assertion times ${JSON.stringify(claims)}`;
	return null;
}

function entra(req, res, u, body, port) {
	const f = new URLSearchParams(body);
	const tokenUrl = `https://127.0.0.1:${port}/${tenant}/oauth2/v2.0/token`;
	let kind, why = null;
	if (u.pathname !== `/${tenant}/oauth2/v2.0/token`) why = `token request for ${u.pathname}`;
	else if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') why = `content-type ${req.headers['content-type']}`;
	else if (f.get('grant_type') !== 'client_credentials') why = `grant_type ${f.get('grant_type')}`;
	else if (f.get('scope') !== 'https://storage.azure.com/.default') why = `scope ${f.get('scope')}`;
	else if (f.get('client_id') !== args['client-id']) why = `client_id ${f.get('client_id')}`;
	else if (f.has('client_secret')) {
		kind = 'secret';
		if (f.get('client_secret') !== args.secret) why = 'wrong client secret';
	} else if (f.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
		why = `client_assertion_type ${f.get('client_assertion_type')}`;
	} else {
		const a = f.get('client_assertion') || '';
		let fed = null;
		try { fed = args['fed-token'] && fs.readFileSync(args['fed-token'], 'utf8').trim(); } catch { /* none */ }
		if (fed && a === fed) kind = 'workload';
		else if (args['sp-cert']) { kind = 'certificate'; why = checkAssertion(a, tokenUrl, args['client-id']); }
		else why = 'the client assertion is not the federated token';
	}
	if (why) return reject(res, why);
	if (injected('entra') === 401)
		return send(res, 401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.\r\nTrace ID: x' });
	const t = issue(kind);
	const out = { token_type: 'Bearer', expires_in: state.lifetime, ext_expires_in: state.lifetime, access_token: t.token };
	if (state.refreshIn) out.refresh_in = state.refreshIn;
	send(res, 200, out);
}

function control(req, res, u, body) {
	if (u.pathname === '/__stats') return send(res, 200, stats);
	if (u.pathname === '/__set' && req.method === 'POST') {
		const s = JSON.parse(body || '{}');
		for (const k of ['lifetime', 'audience', 'revokeAfter', 'refreshIn', 'forbid', 'delayMs', 'arc', 'arcFile']) if (k in s) state[k] = s[k];
		if ('fail' in s) {
			state.fail = s.fail;
			const n = s.fail && s.fail.includes(':') ? Number(s.fail.split(':')[1]) : -1;
			state.failLeft = n;
		}
		return send(res, 200, state);
	}
	return false;
}

const caText = args.ca ? fs.readFileSync(args.ca) : undefined;
const target = args.target ? new URL(args.target) : null;

function proxy(req, res, body) {
	const auth = req.headers.authorization || '';
	if (auth.startsWith('Bearer ')) {
		let jti = null;
		try { jti = JSON.parse(Buffer.from(auth.slice(7).split('.')[1], 'base64url')).jti; } catch { /* none */ }
		if (jti && revoked.has(jti)) {
			stats.challenged++;
			const xml = '<?xml version="1.0" encoding="utf-8"?><Error><Code>InvalidAuthenticationInfo</Code>' +
				'<Message>Authentication information is not given in the correct format.</Message>' +
				'<AuthenticationErrorDetail>Lifetime validation failed. The token is expired.</AuthenticationErrorDetail></Error>';
			res.writeHead(401, {
				'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(xml),
				'x-ms-error-code': 'InvalidAuthenticationInfo',
				'WWW-Authenticate': `Bearer authorization_uri=https://login.microsoftonline.com/${tenant}/oauth2/authorize resource_id=https://storage.azure.com`,
			});
			return res.end(xml);
		}
	}
	if (!target) return send(res, 404, { error: 'no target' });
	if (state.forbid && req.method === state.forbid) {
		stats.forbidden++;
		const xml = '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthorizationPermissionMismatch</Code>' +
			'<Message>This request is not authorized to perform this operation using this permission.</Message></Error>';
		res.writeHead(403, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(xml),
			'x-ms-error-code': 'AuthorizationPermissionMismatch' });
		return res.end(xml);
	}
	stats.proxied++;
	if (state.revokeAfter > 0 && --state.revokeAfter === 0) {
		for (const t of stats.tokens) revoked.add(t.jti);
		state.revokeAfter = -1;
	}
	const headers = { ...req.headers, host: target.host };
	const forward = () => {
		const up = https.request({
			host: target.hostname, port: target.port, method: req.method, path: req.url, headers, ca: caText,
		}, (ures) => {
			if (ures.statusCode === 401 || ures.statusCode === 403) stats.authFailures++;
			res.writeHead(ures.statusCode, ures.headers);
			ures.pipe(res);
		});
		up.on('error', (e) => { if (!res.headersSent) send(res, 502, { error: String(e) }); else res.destroy(); });
		up.end(body);
	};
	if (state.delayMs) setTimeout(forward, state.delayMs);
	else forward();
}

function handler(tls) {
	return (req, res) => {
		const chunks = [];
		req.on('data', (c) => chunks.push(c));
		req.on('end', () => {
			const body = Buffer.concat(chunks);
			const u = new URL(req.url, 'http://127.0.0.1');
			if (u.pathname.startsWith('/__') && control(req, res, u, body.toString()) !== false) return;
			if (!tls) return managed(req, res, u);
			if (req.method === 'POST' && u.pathname.endsWith('/oauth2/v2.0/token'))
				return entra(req, res, u, body.toString(), httpsServer.address().port);
			return proxy(req, res, body);
		});
	};
}

const httpServer = http.createServer(handler(false));
const httpsServer = https.createServer({ cert: fs.readFileSync(args.cert), key: fs.readFileSync(args.key) }, handler(true));
httpServer.keepAliveTimeout = httpsServer.keepAliveTimeout = 30000;
let up = 0;
const ready = () => {
	if (++up === 2) console.log(JSON.stringify({ http: httpServer.address().port, https: httpsServer.address().port }));
};
httpServer.listen(Number(args['http-port'] || 0), '127.0.0.1', ready);
httpsServer.listen(Number(args['https-port'] || 0), '127.0.0.1', ready);
const stop = () => { httpServer.close(); httpsServer.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
