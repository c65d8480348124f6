// azurite-preload.cjs: loaded with `node --require` before Azurite in the tests.
// Azurite started with --disableTelemetry never calls its telemetry library,
// yet loading that library is most of its start-up time; hand it an empty one.
'use strict';
const Module = require('node:module');

const load = Module._load;
Module._load = function (request, parent, isMain) {
	if (request === 'applicationinsights')
		return Object.freeze({});
	return load.call(this, request, parent, isMain);
};
