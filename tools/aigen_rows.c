/* aigen_rows.c: the telemetry the generator writes: continuous-export rows
 * and diagnostic-settings records for every kind, drawn from small tables
 * of plausible names, routes, stacks and log templates. */
#include <stdio.h>
#include "aigen.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

const struct ag_kind_info ag_kinds[AG_KIND_COUNT] = {
	[AG_REQUEST] = { "Requests", "request", "AppRequests" },
	[AG_EVENT] = { "Event", "event", "AppEvents" },
	[AG_EXCEPTION] = { "Exceptions", "basicException", "AppExceptions" },
	[AG_MESSAGE] = { "Messages", "message", "AppTraces" },
	[AG_METRIC] = { "Metrics", "metric", "AppMetrics" },
	[AG_PAGEVIEW] = { "PageViews", "view", "AppPageViews" },
	[AG_PAGEVIEWPERF] = { "PageViewPerformance", "clientPerformance", "AppBrowserTimings" },
	[AG_PERFCOUNTER] = { "PerformanceCounters", "performanceCounter", "AppPerformanceCounters" },
	[AG_AVAILABILITY] = { "Availability", "availability", "AppAvailabilityResults" },
	[AG_DEPENDENCY] = { "Rdd", "remoteDependency", "AppDependencies" },
	[AG_SYSTEMEVENT] = { NULL, NULL, "AppSystemEvents" },
};

/* ---- tables ---- */

static const char *const app_names[] = {
	"shop-web", "billing_api", "ops.portal", "catalog-svc", "auth_gateway.v2",
	"search-api", "inventory_worker", "mobile.backend", "reports-etl", "notify_hub",
};

static const char *const app_namespaces[] = {
	"Contoso.Shop.Web", "Contoso.Billing.Api", "Contoso.Ops.Portal", "Contoso.Catalog",
	"Contoso.Auth.Gateway", "Contoso.Search.Api", "Contoso.Inventory.Worker",
	"Contoso.Mobile.Backend", "Contoso.Reports.Etl", "Contoso.Notify.Hub",
};

static const char *const sdks[] = {
	"dotnetc:2.21.0-429", "azurefunctions: 4.28.3.21820", "node:2.9.5", "java:3.4.19",
};

struct loc {
	const char *continent, *country, *province, *city;
};

static const struct loc locs[] = {
	{ "North America", "United States", "Washington", "Redmond" },
	{ "North America", "United States", "Virginia", "Boydton" },
	{ "Europe", "Germany", "Bavaria", "M\xc3\xbcnchen" },
	{ "Europe", "Switzerland", "Zurich", "Z\xc3\xbcrich" },
	{ "Europe", "Netherlands", "North Holland", "Amsterdam" },
	{ "Asia", "Japan", "Tokyo", "Tokyo" },
	{ "South America", "Brazil", "S\xc3\xa3o Paulo", "S\xc3\xa3o Paulo" },
	{ "Oceania", "Australia", "New South Wales", "Sydney" },
	{ "", "", "", "" },
};

struct route {
	const char *method, *tmpl, *opname, *page;
};

static const struct route routes[] = {
	{ "GET", "/api/orders/{id}", "GET /api/orders/{id}", "Order details" },
	{ "POST", "/api/orders", "POST /api/orders", "Checkout - Step 2" },
	{ "GET", "/api/catalog/items", "GET /api/catalog/items", "Catalog" },
	{ "GET", "/api/catalog/items/{sku}", "GET /api/catalog/items/{sku}", "Product details" },
	{ "PUT", "/api/cart/{cartId}/items/{itemId}", "PUT /api/cart/{cartId}/items/{itemId}", "Cart" },
	{ "GET", "/", "GET Home/Index", "Home" },
	{ "DELETE", "/api/sessions/{id}", "DELETE /api/sessions/{id}", "Sign out" },
	{ "GET", "/search", "GET Search/Index", "Search results" },
};

struct dep {
	const char *type, *target, *name, *data, *dbname;
};

static const struct dep deps[] = {
	{ "SQL", "tcp:sql-prod-01.database.windows.net,1433", "sql-prod-01.database.windows.net | shopdb",
	  "SELECT TOP(@__p_1) [o].[Id], [o].[CustomerId], [o].[Total], [o].[CreatedUtc]\r\nFROM [Orders] AS [o]\r\nWHERE [o].[CustomerId] = @__customerId_0\r\nORDER BY [o].[CreatedUtc] DESC",
	  "shopdb" },
	{ "Http", "api.payments.example.net", "POST /v1/charges", "https://api.payments.example.net/v1/charges", NULL },
	{ "Azure blob", "stexportprod.blob.core.windows.net", "PUT stexportprod/invoices",
	  "https://stexportprod.blob.core.windows.net/invoices/2026/inv-000123.pdf", NULL },
	{ "Redis", "cache-prod.redis.cache.windows.net:6380", "GET", "GET cart:{id}", NULL },
	{ "Azure Service Bus", "sb-prod.servicebus.windows.net | orders", "Send", "", NULL },
	{ "Http", "login.microsoftonline.com", "POST /common/oauth2/v2.0/token",
	  "https://login.microsoftonline.com/common/oauth2/v2.0/token", NULL },
};

struct exc {
	const char *type, *message, *assembly;
};

static const struct exc excs[] = {
	{ "System.InvalidOperationException", "Sequence contains no elements",
	  "System.Linq, Version=6.0.0.0, Culture=neutral, PublicKeyToken=b03f5f7f11d50a3a" },
	{ "System.NullReferenceException", "Object reference not set to an instance of an object.", NULL },
	{ "Microsoft.Data.SqlClient.SqlException",
	  "Execution Timeout Expired.  The timeout period elapsed prior to completion of the operation or the server is not responding.\r\nOperation cancelled by user.\r\nThe statement has been terminated.",
	  "Microsoft.Data.SqlClient, Version=5.0.0.0, Culture=neutral, PublicKeyToken=23ec7fc2d6eaa4a5" },
	{ "System.Net.Http.HttpRequestException", "Response status code does not indicate success: 503 (Service Unavailable).",
	  "System.Net.Http, Version=6.0.0.0, Culture=neutral, PublicKeyToken=b03f5f7f11d50a3a" },
	{ "System.TimeoutException", "The operation has timed out after 00:00:30.", NULL },
	{ "System.ArgumentException", "Value cannot be \"empty\". (Parameter 'sku')", NULL },
	{ "System.Text.Json.JsonException",
	  "'<' is an invalid start of a value. Path: $ | LineNumber: 0 | BytePositionInLine: 0.",
	  "System.Text.Json, Version=6.0.0.0, Culture=neutral, PublicKeyToken=cc7b13ffcd2ddd51" },
};

struct frame {
	const char *method, *args, *assembly;
};

static const struct frame fw_frames[] = {
	{ "System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw", "",
	  "System.Private.CoreLib, Version=6.0.0.0, Culture=neutral, PublicKeyToken=7cec85d7bea7798e" },
	{ "System.Runtime.CompilerServices.TaskAwaiter.ThrowForNonSuccess", "Task task",
	  "System.Private.CoreLib, Version=6.0.0.0, Culture=neutral, PublicKeyToken=7cec85d7bea7798e" },
	{ "System.Runtime.CompilerServices.TaskAwaiter.HandleNonSuccessAndDebuggerNotification", "Task task",
	  "System.Private.CoreLib, Version=6.0.0.0, Culture=neutral, PublicKeyToken=7cec85d7bea7798e" },
	{ "Microsoft.AspNetCore.Mvc.Infrastructure.ActionMethodExecutor+TaskOfIActionResultExecutor.Execute",
	  "IActionResultTypeMapper mapper, ObjectMethodExecutor executor, Object controller, Object[] arguments",
	  "Microsoft.AspNetCore.Mvc.Core, Version=6.0.0.0, Culture=neutral, PublicKeyToken=adb9793829ddae60" },
	{ "Microsoft.AspNetCore.Mvc.Infrastructure.ControllerActionInvoker.<InvokeActionMethodAsync>g__Awaited|12_0",
	  "ControllerActionInvoker invoker, ValueTask`1 actionResultValueTask",
	  "Microsoft.AspNetCore.Mvc.Core, Version=6.0.0.0, Culture=neutral, PublicKeyToken=adb9793829ddae60" },
	{ "Microsoft.AspNetCore.Mvc.Infrastructure.ControllerActionInvoker.<InvokeNextActionFilterAsync>g__Awaited|10_0",
	  "ControllerActionInvoker invoker, Task lastTask, State next, Scope scope, Object state, Boolean isCompleted",
	  "Microsoft.AspNetCore.Mvc.Core, Version=6.0.0.0, Culture=neutral, PublicKeyToken=adb9793829ddae60" },
	{ "Microsoft.AspNetCore.Routing.EndpointMiddleware.<Invoke>g__AwaitRequestTask|6_0",
	  "Endpoint endpoint, Task requestTask, ILogger logger",
	  "Microsoft.AspNetCore.Routing, Version=6.0.0.0, Culture=neutral, PublicKeyToken=adb9793829ddae60" },
	{ "Microsoft.AspNetCore.Authorization.AuthorizationMiddleware.Invoke", "HttpContext context",
	  "Microsoft.AspNetCore.Authorization.Policy, Version=6.0.0.0, Culture=neutral, PublicKeyToken=adb9793829ddae60" },
	{ "Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware.<Invoke>g__Awaited|6_0",
	  "ExceptionHandlerMiddleware middleware, HttpContext context, Task task",
	  "Microsoft.AspNetCore.Diagnostics, Version=6.0.0.0, Culture=neutral, PublicKeyToken=adb9793829ddae60" },
	{ "Microsoft.Data.SqlClient.SqlCommand+<>c.<ExecuteDbDataReaderAsync>b__208_0", "Task`1 result",
	  "Microsoft.Data.SqlClient, Version=5.0.0.0, Culture=neutral, PublicKeyToken=23ec7fc2d6eaa4a5" },
	{ "System.Threading.Tasks.ContinuationResultTaskFromResultTask`2.InnerInvoke", "",
	  "System.Private.CoreLib, Version=6.0.0.0, Culture=neutral, PublicKeyToken=7cec85d7bea7798e" },
	{ "System.Threading.ExecutionContext.RunInternal",
	  "ExecutionContext executionContext, ContextCallback callback, Object state",
	  "System.Private.CoreLib, Version=6.0.0.0, Culture=neutral, PublicKeyToken=7cec85d7bea7798e" },
	{ "System.Threading.Tasks.Task.ExecuteWithThreadLocal", "Task& currentTaskSlot, Thread threadPoolThread",
	  "System.Private.CoreLib, Version=6.0.0.0, Culture=neutral, PublicKeyToken=7cec85d7bea7798e" },
	{ "Microsoft.EntityFrameworkCore.Query.Internal.SingleQueryingEnumerable`1+AsyncEnumerator.MoveNextAsync", "",
	  "Microsoft.EntityFrameworkCore.Relational, Version=6.0.8.0, Culture=neutral, PublicKeyToken=adb9793829ddae60" },
	{ "Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.ToListAsync[TSource]",
	  "IQueryable`1 source, CancellationToken cancellationToken",
	  "Microsoft.EntityFrameworkCore, Version=6.0.8.0, Culture=neutral, PublicKeyToken=adb9793829ddae60" },
	{ "System.Net.Http.HttpResponseMessage.EnsureSuccessStatusCode", "",
	  "System.Net.Http, Version=6.0.0.0, Culture=neutral, PublicKeyToken=b03f5f7f11d50a3a" },
	{ "System.Linq.ThrowHelper.ThrowNoElementsException", "",
	  "System.Linq, Version=6.0.0.0, Culture=neutral, PublicKeyToken=b03f5f7f11d50a3a" },
};

static const char *const user_classes[] = {
	"Controllers.OrdersController", "Services.OrderService", "Data.OrderRepository",
	"Services.PaymentClient", "Services.CatalogCache", "Handlers.OrderPlacedHandler",
};

static const char *const user_methods[] = {
	"GetAsync", "PlaceOrderAsync", "LoadAsync", "ChargeAsync", "ValidateAsync", "HandleAsync",
};

struct tmpl {
	const char *fmt, *logger;
	unsigned severity;
};

static const char *const severities[] = { "Verbose", "Information", "Warning", "Error", "Critical" };

/* A logger starting with '.' is relative to the app's namespace. */
static const struct tmpl tmpls[] = {
	{ "Order {OrderId} placed for customer {CustomerId} in {ElapsedMs} ms", ".Services.OrderService", 1 },
	{ "Executed DbCommand ({ElapsedMs}ms) [Parameters=[@__id_0='?' (DbType = Int32)], CommandType='Text', CommandTimeout='30']",
	  "Microsoft.EntityFrameworkCore.Database.Command", 1 },
	{ "Request starting HTTP/1.1 {Method} {Path} - -", "Microsoft.AspNetCore.Hosting.Diagnostics", 1 },
	{ "Cache miss for key \"{Key}\"", ".Services.CatalogCache", 0 },
	{ "Payment provider returned {StatusCode}; retrying in {Delay}s", ".Services.PaymentClient", 2 },
	{ "Failed to process message {MessageId}: {Error}", ".Handlers.OrderPlacedHandler", 3 },
	{ "Heartbeat from worker {Worker} \xe2\x80\x93 queue depth {Depth}", ".Worker", 1 },
	{ "Health check {HealthCheckName} completed after {ElapsedMs}ms with status {Status}",
	  "Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService", 0 },
};

static const char *const event_names[] = {
	"CheckoutStarted", "Cart Item Added", "search.performed", "Login Failed", "OrderShipped",
};

static const char *const metric_names[] = {
	"QueueLength", "Orders Processed", "cache.hit_ratio", "Heartbeat", "Payment latency (ms)",
};

struct counter {
	const char *category, *counter, *instance, *snake;
};

static const struct counter counters[] = {
	{ "Processor", "% Processor Time", "_Total", "processor_time" },
	{ "Memory", "Available Bytes", "", "available_bytes" },
	{ "Process", "Private Bytes", "w3wp", "private_bytes" },
	{ "Process", "% Processor Time Normalized", "w3wp", "processor_time_normalized" },
	{ "ASP.NET Applications", "Requests/Sec", "__Total__", "requests_per_sec" },
	{ ".NET CLR Exceptions", "# of Exceps Thrown / sec", "w3wp", "exceptions_thrown_per_sec" },
	{ "Process", "IO Data Bytes/sec", "w3wp", "io_data_bytes_per_sec" },
};

static const char *const avail_tests[] = { "home-ping", "checkout-flow (multi-step)", "api /health" };

struct runloc {
	const char *id, *name;
};

static const struct runloc runlocs[] = {
	{ "us-va-ash-azr", "East US" },
	{ "emea-nl-ams-azr", "West Europe" },
	{ "apac-sg-sin-azr", "Southeast Asia" },
	{ "us-ca-sjc-azr", "West US" },
};

static const char *const browsers[][4] = {
	{ "Chrome", "Chrome 120.0", "Windows", "Windows 10" },
	{ "Edg", "Edg 119.0", "Windows", "Windows 10" },
	{ "Safari", "Safari 17.1", "iOS", "iOS 17.1" },
	{ "Firefox", "Firefox 121.0", "Linux", "Linux" },
};

/* ---- apps ---- */

static void hex_string(char *out, uint64_t a, uint64_t b)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++)
		out[i] = hex[(a >> (60 - 4 * i)) & 15];
	for (int i = 0; i < 16; i++)
		out[16 + i] = hex[(b >> (60 - 4 * i)) & 15];
	out[32] = '\0';
}

static void guid_string(char *out, const char *hex32, bool upper)
{
	unsigned j = 0;

	for (unsigned i = 0; i < 32; i++) {
		if (i == 8 || i == 12 || i == 16 || i == 20)
			out[j++] = '-';
		out[j++] = upper && hex32[i] >= 'a' ? (char)(hex32[i] - 32) : hex32[i];
	}
	out[j] = '\0';
}

static void upcase(char *dst, const char *src, size_t cap)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < cap; i++)
		dst[i] = src[i] >= 'a' && src[i] <= 'z' ? (char)(src[i] - 32) : src[i];
	dst[i] = '\0';
}

void ag_app_init(struct ag_app *a, unsigned i, uint64_t seed)
{
	struct ag_rng r;
	char hex[33];
	const char *base = app_names[i % N(app_names)];
	const char *ns = app_namespaces[i % N(app_namespaces)];

	memset(a, 0, sizeof(*a));
	ag_rng_seed(&r, ag_mix(ag_mix(seed, 0x617070), i));
	if (i < N(app_names))
		snprintf(a->name, sizeof(a->name), "%s", base);
	else
		snprintf(a->name, sizeof(a->name), "%s-%u", base, i / (unsigned)N(app_names));
	upcase(a->upper, a->name, sizeof(a->upper));
	hex_string(a->ikey, ag_next(&r), ag_next(&r));
	guid_string(a->ikey_guid, a->ikey, false);
	hex_string(hex, ag_next(&r), ag_next(&r));
	guid_string(a->resource_guid, hex, false);
	snprintf(a->rg, sizeof(a->rg), "RG-%.36s-PROD", a->upper);
	/* host names allow neither '_' nor a '.' inside a label we invent */
	snprintf(a->host, sizeof(a->host), "%s.contoso.com", a->name);
	for (char *c = a->host; *c && strcmp(c, ".contoso.com"); c++)
		if (*c == '_' || *c == '.')
			*c = '-';
	snprintf(a->ns, sizeof(a->ns), "%s", ns);
	a->profile = i % 3;
	a->nroles = 2 + (i % 2);
	snprintf(a->roles[0], sizeof(a->roles[0]), "%s", a->name);
	snprintf(a->roles[1], sizeof(a->roles[1]), "%.36s-worker", a->name);
	snprintf(a->roles[2], sizeof(a->roles[2]), "%s (staging)", ns);
	a->ninstances = 2 + (unsigned)ag_below(&r, 3);
	for (unsigned k = 0; k < a->ninstances; k++) {
		if (a->profile == 1)
			snprintf(a->instances[k], sizeof(a->instances[k]), "RD0003FF%04X%02X",
				 (unsigned)ag_below(&r, 0x10000), (unsigned)ag_below(&r, 0x100));
		else
			snprintf(a->instances[k], sizeof(a->instances[k]), "%.20s-7d9f8c%02x-%05x",
				 base, (unsigned)ag_below(&r, 256), (unsigned)ag_below(&r, 0x100000));
	}
	snprintf(a->version, sizeof(a->version), "1.%u.%u", (unsigned)ag_below(&r, 9),
		 (unsigned)ag_below(&r, 30));
	a->sdk = sdks[i % N(sdks)];
}

/* ---- row setup ---- */

static bool kind_has_op(enum ag_kind k)
{
	return k != AG_METRIC && k != AG_PERFCOUNTER;
}

static bool kind_sampled(enum ag_kind k)
{
	switch (k) {
	case AG_REQUEST:
	case AG_DEPENDENCY:
	case AG_EVENT:
	case AG_MESSAGE:
	case AG_EXCEPTION:
	case AG_PAGEVIEW:
	case AG_PAGEVIEWPERF:
		return true;
	default:
		return false;
	}
}

void ag_row_setup(struct ag_row *rw, const struct ag_gen *g, unsigned appi,
		  enum ag_kind k, int64_t t, struct ag_rng *r, struct ag_out *scratch)
{
	/* Mostly .NET's 7 digits; JavaScript gives 3; serializers that trim
	 * trailing zeros give the rest. */
	static const unsigned digit_table[16] = { 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 3, 3, 3, 5, 4, 7 };
	static const unsigned adaptive_rates[4] = { 1000, 500, 250, 200 };
	const struct ag_app *app = &g->apps[appi];
	int64_t ehour, p = 1;
	uint64_t h;

	rw->g = g;
	rw->app = app;
	rw->appi = appi;
	rw->kind = k;
	rw->r = r;
	rw->scratch = scratch;
	rw->digits = digit_table[ag_below(r, 16)];
	for (unsigned i = rw->digits; i < 7; i++)
		p *= 10;
	rw->t = t - ((t % p) + p) % p;
	rw->browser = k == AG_PAGEVIEW || k == AG_PAGEVIEWPERF;
	rw->has_op = kind_has_op(k);
	rw->span = ag_next(r);
	ehour = rw->t / AG_TICKS_PER_HOUR;
	if (rw->has_op && k != AG_AVAILABILITY) {
		struct ag_rng orng;

		/* The operation is a function of app, event hour and slot, so
		 * every type draws from the same pool and one operation id
		 * shows up in requests, dependencies, traces and exceptions. */
		h = ag_mix(ag_mix(ag_mix(g->seed, 0x6f70), appi), (uint64_t)ehour);
		ag_rng_seed(&orng, ag_mix(h, ag_below(r, g->op_pool ? g->op_pool : 1)));
		rw->op[0] = ag_next(&orng);
		rw->op[1] = ag_next(&orng);
		rw->req_span = ag_next(&orng);
		rw->session = ag_next(&orng);
		rw->user = ag_next(&orng);
		rw->route = (unsigned)ag_below(&orng, N(routes));
		rw->role = (unsigned)ag_below(&orng, app->nroles);
		rw->instance = (unsigned)ag_below(&orng, app->ninstances);
		rw->loc = (unsigned)ag_below(&orng, N(locs));
	} else {
		rw->op[0] = ag_next(r);
		rw->op[1] = ag_next(r);
		rw->req_span = ag_next(r);
		rw->session = ag_next(r);
		rw->user = ag_next(r);
		rw->route = (unsigned)ag_below(r, N(routes));
		rw->role = (unsigned)ag_below(r, app->nroles);
		rw->instance = (unsigned)ag_below(r, app->ninstances);
		rw->loc = k == AG_AVAILABILITY ? N(locs) - 1 : (unsigned)ag_below(r, N(locs));
	}
	rw->rate_x10 = 1000;
	if (kind_sampled(k)) {
		if (app->profile == 1)
			rw->rate_x10 = adaptive_rates[ag_mix(g->seed, (uint64_t)ehour ^ appi) % 4];
		else if (app->profile == 2 && (k == AG_REQUEST || k == AG_DEPENDENCY))
			rw->rate_x10 = 250;
	}
	rw->count = 1000 / rw->rate_x10;
}

/* ---- small emitters ---- */

/* A number the way the app's SDK writes it: "1046804.0" or "1046804". */
static void put_num(struct ag_row *rw, struct ag_out *o, int64_t v)
{
	ag_put_i64(o, v);
	if (rw->app->profile != 2)
		AG_LIT(o, ".0");
}

/* A template path with each {placeholder} replaced by a number. */
static void put_filled(struct ag_row *rw, struct ag_out *o, const char *tmpl)
{
	for (const char *s = tmpl; *s; s++) {
		if (*s != '{') {
			ag_putc(o, *s);
			continue;
		}
		while (*s && *s != '}')
			s++;
		ag_put_u64(o, 1000 + (rw->req_span >> 20) % 90000);
		if (!*s)
			break;
	}
}

static void put_url(struct ag_row *rw, struct ag_out *o, const struct route *rt)
{
	AG_LIT(o, "\"https://");
	ag_puts(o, rw->app->host);
	put_filled(rw, o, rt->tmpl);
	ag_putc(o, '"');
}

static void put_opid(struct ag_row *rw, struct ag_out *o)
{
	ag_putc(o, '"');
	ag_put_hex(o, rw->op[0], 16);
	ag_put_hex(o, rw->op[1], 16);
	ag_putc(o, '"');
}

static void put_span(struct ag_out *o, uint64_t span)
{
	ag_putc(o, '"');
	ag_put_hex(o, span, 16);
	ag_putc(o, '"');
}

/* Duration of one item in ticks: mostly tens of ms, a long tail. */
static int64_t draw_duration(struct ag_row *rw)
{
	int64_t ms = 2 + (int64_t)ag_below(rw->r, 60);

	if (ag_chance(rw->r, 1, 8))
		ms += (int64_t)ag_below(rw->r, 3000);
	if (ag_chance(rw->r, 1, 200))
		ms += 30000 + (int64_t)ag_below(rw->r, 90000);
	return ms * 10000 + (int64_t)ag_below(rw->r, 10000);
}

static const char *perf_bucket(int64_t ticks)
{
	int64_t ms = ticks / 10000;

	if (ms < 250)
		return "<250ms";
	if (ms < 500)
		return "250ms-500ms";
	if (ms < 1000)
		return "500ms-1sec";
	if (ms < 3000)
		return "1sec-3sec";
	if (ms < 7000)
		return "3sec-7sec";
	if (ms < 15000)
		return "7sec-15sec";
	if (ms < 30000)
		return "15sec-30sec";
	if (ms < 60000)
		return "30sec-1min";
	if (ms < 120000)
		return "1min-2min";
	return "2min-5min";
}

/* {"value":..,"count":..,"min":..,"max":..,"stdDev":..,"sampledValue":..}:
 * value is the sampling-extrapolated total, sampledValue one item. */
static void put_metric_value(struct ag_row *rw, struct ag_out *o, int64_t one)
{
	AG_LIT(o, "{\"value\":");
	put_num(rw, o, one * rw->count);
	AG_LIT(o, ",\"count\":");
	put_num(rw, o, rw->count);
	AG_LIT(o, ",\"min\":");
	put_num(rw, o, one);
	AG_LIT(o, ",\"max\":");
	put_num(rw, o, one);
	AG_LIT(o, ",\"stdDev\":0.0,\"sampledValue\":");
	put_num(rw, o, one);
	ag_putc(o, '}');
}

/* ---- custom dimensions ---- */

struct dims {
	unsigned n;
	struct {
		const char *k;
		size_t klen;
		const char *v;
		size_t vlen;
	} e[12];
};

static void dim_lit(struct dims *d, const char *k, const char *v)
{
	if (d->n >= N(d->e))
		return;
	d->e[d->n].k = k;
	d->e[d->n].klen = strlen(k);
	d->e[d->n].v = v;
	d->e[d->n].vlen = strlen(v);
	d->n++;
}

/* Starts a value built in scratch; dim_end records it. */
static size_t dim_begin(struct ag_row *rw)
{
	return rw->scratch->n;
}

static void dim_end(struct ag_row *rw, struct dims *d, const char *k, size_t klen, size_t start)
{
	if (d->n >= N(d->e))
		return;
	d->e[d->n].k = k;
	d->e[d->n].klen = klen;
	d->e[d->n].v = rw->scratch->p + start;
	d->e[d->n].vlen = rw->scratch->n - start;
	d->n++;
}

static const struct tmpl *row_tmpl(struct ag_row *rw)
{
	return &tmpls[(rw->span >> 8) % N(tmpls)];
}

/* Renders the trace template into scratch as the raw message, recording
 * each placeholder's value as a dimension. Returns the raw text offset. */
static size_t render_tmpl(struct ag_row *rw, struct dims *d, size_t *rawlen)
{
	const struct tmpl *tp = row_tmpl(rw);
	const struct route *rt = &routes[rw->route];
	struct ag_out *s = rw->scratch;
	size_t raw = s->n, vstart[4], vend[4], nlen[4];
	const char *names[4];
	unsigned nv = 0;
	struct ag_rng vr;

	/* Values come from the item's own id, so the message text and the
	 * dimensions rendered from it separately agree. */
	ag_rng_seed(&vr, ag_mix(rw->span, 0x746d706c));
	for (const char *p = tp->fmt; *p; p++) {
		const char *e;
		size_t vs = s->n;

		if (*p != '{' || !(e = strchr(p, '}'))) {
			ag_putc(s, *p);
			continue;
		}
		if (!strncmp(p, "{Path}", 6))
			put_filled(rw, s, rt->tmpl);
		else if (!strncmp(p, "{Method}", 8))
			ag_puts(s, rt->method);
		else if (!strncmp(p, "{Key}", 5)) {
			AG_LIT(s, "cart:");
			ag_put_u64(s, rw->session % 100000);
		} else if (!strncmp(p, "{MessageId}", 11))
			ag_put_guid(s, &vr);
		else if (!strncmp(p, "{Error}", 7))
			AG_LIT(s, "Lock \"orders-7\" lost\tafter 3 renewals");
		else if (!strncmp(p, "{Worker}", 8))
			ag_puts(s, rw->app->instances[rw->instance]);
		else if (!strncmp(p, "{ElapsedMs}", 11))
			ag_put_fixed(s, (int64_t)ag_below(&vr, 50000), 1);
		else if (!strncmp(p, "{Status}", 8))
			ag_puts(s, ag_chance(&vr, 1, 10) ? "Degraded" : "Healthy");
		else if (!strncmp(p, "{HealthCheckName}", 17))
			AG_LIT(s, "sql");
		else if (!strncmp(p, "{StatusCode}", 12))
			AG_LIT(s, "503");
		else if (!strncmp(p, "{Delay}", 7))
			ag_put_u64(s, 1 + ag_below(&vr, 30));
		else
			ag_put_u64(s, 1 + ag_below(&vr, 99999));
		if (nv < 4) {
			names[nv] = p + 1;
			nlen[nv] = (size_t)(e - p - 1);
			vstart[nv] = vs;
			vend[nv] = s->n;
			nv++;
		}
		p = e;
	}
	*rawlen = s->n - raw;
	/* Values point into scratch, which never moves, so the dimensions
	 * can share the rendered text. */
	for (unsigned i = 0; i < nv && d->n < N(d->e); i++) {
		d->e[d->n].k = names[i];
		d->e[d->n].klen = nlen[i];
		d->e[d->n].v = s->p + vstart[i];
		d->e[d->n].vlen = vend[i] - vstart[i];
		d->n++;
	}
	return raw;
}

static const char *logger_name(struct ag_row *rw, const struct tmpl *tp)
{
	struct ag_out *s = rw->scratch;
	size_t start = s->n;

	if (tp->logger[0] == '.')
		ag_puts(s, rw->app->ns);
	ag_puts(s, tp->logger);
	ag_putc(s, '\0');
	return s->p + start;
}

static void fill_dims(struct ag_row *rw, struct dims *d)
{
	size_t st;

	d->n = 0;
	switch (rw->kind) {
	case AG_REQUEST:
		dim_lit(d, "_MS.ProcessedByMetricExtractors", "(Name:'Requests', Ver:'1.1')");
		dim_lit(d, "AspNetCoreEnvironment", "Production");
		if (ag_chance(rw->r, 1, 3)) {
			st = dim_begin(rw);
			ag_put_u64(rw->scratch, ag_below(rw->r, 20000));
			dim_end(rw, d, "Request Body Size", 17, st);
		}
		break;
	case AG_DEPENDENCY:
		dim_lit(d, "_MS.ProcessedByMetricExtractors", "(Name:'Dependencies', Ver:'1.1')");
		if (ag_chance(rw->r, 1, 2))
			dim_lit(d, "DB.Name", "shopdb");
		break;
	case AG_EXCEPTION:
		dim_lit(d, "{OriginalFormat}", "An unhandled exception has occurred while executing the request.");
		dim_lit(d, "CategoryName", "Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware");
		dim_lit(d, "AspNetCoreEnvironment", "Production");
		break;
	case AG_MESSAGE: {
		const struct tmpl *tp = row_tmpl(rw);
		size_t rawlen;

		dim_lit(d, "{OriginalFormat}", tp->fmt);
		dim_lit(d, "CategoryName", logger_name(rw, tp));
		(void)render_tmpl(rw, d, &rawlen);
		break;
	}
	case AG_EVENT:
		st = dim_begin(rw);
		ag_put_fixed(rw->scratch, (int64_t)ag_below(rw->r, 50000), 2);
		dim_end(rw, d, "Cart Total", 10, st);
		st = dim_begin(rw);
		AG_LIT(rw->scratch, "{\"sku\":\"A-");
		ag_put_u64(rw->scratch, ag_below(rw->r, 1000));
		AG_LIT(rw->scratch, "\",\"qty\":");
		ag_put_u64(rw->scratch, 1 + ag_below(rw->r, 5));
		ag_putc(rw->scratch, '}');
		dim_end(rw, d, "payload", 7, st);
		dim_lit(d, "user.tier", ag_chance(rw->r, 1, 4) ? "gold" : "standard");
		break;
	case AG_METRIC:
		dim_lit(d, "_MS.AggregationIntervalMs", "60000");
		dim_lit(d, "Queue Name", "orders");
		break;
	case AG_PAGEVIEW:
		dim_lit(d, "refUri", "https://www.bing.com/");
		dim_lit(d, "isManual", ag_chance(rw->r, 1, 5) ? "true" : "false");
		break;
	case AG_AVAILABILITY:
		dim_lit(d, "FullTestResultAvailable", "true");
		dim_lit(d, "WebtestLocationId", runlocs[rw->span % N(runlocs)].id);
		break;
	case AG_SYSTEMEVENT:
		dim_lit(d, "ai.internal.sdkVersion", rw->app->sdk);
		break;
	default:
		break;
	}
	if (ag_chance(rw->r, 1, 4)) {
		st = dim_begin(rw);
		ag_put_hex(rw->scratch, rw->span >> 32, 8);
		dim_end(rw, d, "InstanceKey", 11, st);
	}
}

/* CE form: an array of single-key objects; DS form: one object. */
static void put_dims(struct ag_out *o, const struct dims *d, bool ds)
{
	ag_putc(o, ds ? '{' : '[');
	for (unsigned i = 0; i < d->n; i++) {
		if (i)
			ag_putc(o, ',');
		if (!ds)
			ag_putc(o, '{');
		ag_put_jstrn(o, d->e[i].k, d->e[i].klen);
		ag_putc(o, ':');
		ag_put_jstrn(o, d->e[i].v, d->e[i].vlen);
		if (!ds)
			ag_putc(o, '}');
	}
	ag_putc(o, ds ? '}' : ']');
}

/* ---- exceptions ---- */

struct stack {
	unsigned n;
	struct {
		bool user;
		unsigned a, b;   /* class and method, or framework frame */
		unsigned line;
	} f[40];
	bool windows_paths;
};

static void draw_stack(struct ag_row *rw, struct stack *st)
{
	st->n = 4 + (unsigned)ag_below(rw->r, 22);
	st->windows_paths = rw->app->profile != 1;
	for (unsigned i = 0; i < st->n; i++) {
		st->f[i].user = ag_chance(rw->r, 1, 3);
		st->f[i].a = (unsigned)ag_below(rw->r, st->f[i].user ? N(user_classes) : N(fw_frames));
		st->f[i].b = (unsigned)ag_below(rw->r, N(user_methods));
		st->f[i].line = 12 + (unsigned)ag_below(rw->r, 400);
	}
}

static void put_frame_method(struct ag_row *rw, struct ag_out *o, const struct stack *st, unsigned i)
{
	if (st->f[i].user) {
		ag_puts(o, rw->app->ns);
		ag_putc(o, '.');
		ag_puts(o, user_classes[st->f[i].a]);
		AG_LIT(o, "+<");
		ag_puts(o, user_methods[st->f[i].b]);
		AG_LIT(o, ">d__");
		ag_put_u64(o, st->f[i].line % 23);
		AG_LIT(o, ".MoveNext");
	} else {
		ag_puts(o, fw_frames[st->f[i].a].method);
	}
}

static void put_frame_file(struct ag_row *rw, struct ag_out *o, const struct stack *st, unsigned i)
{
	const char *cls = user_classes[st->f[i].a];

	if (st->windows_paths) {
		AG_LIT(o, "D:\\a\\1\\s\\src\\");
		ag_puts(o, rw->app->ns);
		ag_putc(o, '\\');
		for (const char *c = cls; *c; c++)
			ag_putc(o, *c == '.' ? '\\' : *c);
	} else {
		AG_LIT(o, "/src/");
		ag_puts(o, rw->app->ns);
		ag_putc(o, '/');
		for (const char *c = cls; *c; c++)
			ag_putc(o, *c == '.' ? '/' : *c);
	}
	AG_LIT(o, ".cs");
}

/* The .NET ToString() of the exception, capped at 10k like the service. */
static void put_stack_text(struct ag_row *rw, struct ag_out *o, const struct stack *st,
			   const struct exc *ex)
{
	struct ag_out *s = rw->scratch;
	size_t start = s->n;

	ag_puts(s, ex->type);
	AG_LIT(s, ": ");
	ag_puts(s, ex->message);
	for (unsigned i = 0; i < st->n; i++) {
		AG_LIT(s, "\r\n   at ");
		put_frame_method(rw, s, st, i);
		ag_putc(s, '(');
		if (st->f[i].user)
			AG_LIT(s, "OrderRequest request, CancellationToken cancellationToken");
		else
			ag_puts(s, fw_frames[st->f[i].a].args);
		ag_putc(s, ')');
		if (st->f[i].user) {
			AG_LIT(s, " in ");
			put_frame_file(rw, s, st, i);
			AG_LIT(s, ":line ");
			ag_put_u64(s, st->f[i].line);
		}
		if (i % 5 == 4)
			AG_LIT(s, "\r\n--- End of stack trace from previous location ---");
	}
	ag_put_jstrn(o, s->p + start, s->n - start > 10000 ? 10000 : s->n - start);
	s->n = start;
}

static void put_parsed_stack(struct ag_row *rw, struct ag_out *o, const struct stack *st, bool ds)
{
	ag_putc(o, '[');
	for (unsigned i = 0; i < st->n; i++) {
		if (i)
			ag_putc(o, ',');
		AG_LIT(o, "{\"level\":");
		ag_put_u64(o, i);
		AG_LIT(o, ",\"method\":\"");
		put_frame_method(rw, o, st, i);
		AG_LIT(o, "\",\"assembly\":\"");
		if (st->f[i].user) {
			ag_puts(o, rw->app->ns);
			AG_LIT(o, ", Version=");
			ag_puts(o, rw->app->version);
			AG_LIT(o, ".0, Culture=neutral, PublicKeyToken=null\",\"line\":");
			ag_put_u64(o, st->f[i].line);
			AG_LIT(o, ",\"fileName\":");
			{
				struct ag_out *s = rw->scratch;
				size_t start = s->n;

				put_frame_file(rw, s, st, i);
				ag_put_jstrn(o, s->p + start, s->n - start);
				s->n = start;
			}
		} else {
			ag_puts(o, fw_frames[st->f[i].a].assembly);
			AG_LIT(o, "\",\"line\":0");
		}
		ag_putc(o, '}');
	}
	ag_putc(o, ']');
	(void)ds;
}

struct exc_chain {
	unsigned n;
	unsigned ex[4];
	uint64_t id[4];
	struct stack st[4];
};

static void draw_chain(struct ag_row *rw, struct exc_chain *c)
{
	uint64_t roll = ag_below(rw->r, 20);

	c->n = roll < 12 ? 1 : roll < 17 ? 2 : 3 + (unsigned)(roll & 1);
	for (unsigned i = 0; i < c->n; i++) {
		c->ex[i] = (unsigned)ag_below(rw->r, N(excs));
		c->id[i] = ag_below(rw->r, 90000000) + 10000000;
		draw_stack(rw, &c->st[i]);
	}
}

static const char *exc_assembly(const struct exc *ex)
{
	return ex->assembly ? ex->assembly
			    : "System.Private.CoreLib, Version=6.0.0.0, Culture=neutral, PublicKeyToken=7cec85d7bea7798e";
}

static void put_basic_exception(struct ag_row *rw, struct ag_out *o, const struct exc_chain *c,
				unsigned i)
{
	const struct exc *ex = &excs[c->ex[i]], *outer = &excs[c->ex[0]];
	const struct stack *st = &c->st[i];

	AG_LIT(o, "{\"assembly\":");
	ag_put_jstr(o, exc_assembly(ex));
	AG_LIT(o, ",\"count\":");
	ag_put_u64(o, rw->count);
	AG_LIT(o, ",\"exceptionGroup\":");
	ag_put_jstr(o, ex->type);
	AG_LIT(o, ",\"exceptionType\":");
	ag_put_jstr(o, ex->type);
	AG_LIT(o, ",\"failedUserCodeMethod\":\"");
	ag_puts(o, rw->app->ns);
	ag_putc(o, '.');
	ag_puts(o, user_classes[st->f[0].a % N(user_classes)]);
	ag_putc(o, '.');
	ag_puts(o, user_methods[st->f[0].b]);
	AG_LIT(o, "\",\"failedUserCodeAssembly\":\"");
	ag_puts(o, rw->app->ns);
	AG_LIT(o, ", Version=");
	ag_puts(o, rw->app->version);
	AG_LIT(o, ".0, Culture=neutral, PublicKeyToken=null\",\"handledAt\":\"");
	ag_puts(o, i ? "UserCode" : "Platform");
	AG_LIT(o, "\",\"hasFullStack\":true,\"id\":");
	ag_put_u64(o, c->id[i]);
	AG_LIT(o, ",\"method\":\"");
	put_frame_method(rw, o, st, 0);
	AG_LIT(o, "\",\"message\":");
	ag_put_jstr(o, ex->message);
	AG_LIT(o, ",\"outerExceptionMessage\":");
	ag_put_jstr(o, outer->message);
	AG_LIT(o, ",\"outerExceptionThrownAtAssembly\":");
	ag_put_jstr(o, exc_assembly(outer));
	AG_LIT(o, ",\"outerExceptionThrownAtMethod\":\"");
	put_frame_method(rw, o, &c->st[0], 0);
	AG_LIT(o, "\",\"outerExceptionType\":");
	ag_put_jstr(o, outer->type);
	AG_LIT(o, ",\"outerId\":");
	ag_put_u64(o, i ? c->id[i - 1] : 0);
	AG_LIT(o, ",\"parsedStack\":");
	put_parsed_stack(rw, o, st, false);
	AG_LIT(o, ",\"stack\":");
	put_stack_text(rw, o, st, ex);
	AG_LIT(o, ",\"typeName\":");
	ag_put_jstr(o, ex->type);
	ag_putc(o, '}');
}

/* ---- continuous-export type arrays ---- */

static void put_request(struct ag_row *rw, struct ag_out *o)
{
	const struct route *rt = &routes[rw->route];
	int64_t dur = draw_duration(rw);
	uint64_t roll = ag_below(rw->r, 100);
	unsigned code = roll < 3 ? 500 : roll < 7 ? 404 : rt->method[0] == 'P' && rt->method[1] == 'O' ? 201 : 200;
	bool docs_order = ag_chance(rw->r, 1, 5);

	AG_LIT(o, "\"request\":[{");
	if (!docs_order) {
		AG_LIT(o, "\"urlData\":{\"host\":");
		ag_put_jstr(o, rw->app->host);
		AG_LIT(o, ",\"base\":\"");
		put_filled(rw, o, rt->tmpl);
		AG_LIT(o, "\",\"hashTag\":\"\"},");
	}
	AG_LIT(o, "\"responseCode\":");
	ag_put_u64(o, code);
	AG_LIT(o, ",\"success\":");
	ag_puts(o, code < 400 ? "true" : "false");
	AG_LIT(o, ",\"id\":");
	put_span(o, rw->req_span);
	AG_LIT(o, ",\"name\":");
	ag_put_jstr(o, rt->opname);
	AG_LIT(o, ",\"count\":");
	ag_put_u64(o, rw->count);
	AG_LIT(o, ",\"durationMetric\":");
	put_metric_value(rw, o, dur);
	AG_LIT(o, ",\"url\":");
	put_url(rw, o, rt);
	if (docs_order) {
		AG_LIT(o, ",\"urlData\":{\"base\":\"");
		put_filled(rw, o, rt->tmpl);
		AG_LIT(o, "\",\"host\":");
		ag_put_jstr(o, rw->app->host);
		AG_LIT(o, ",\"hashTag\":\"\",\"protocol\":\"https\"}");
	}
	AG_LIT(o, "}]");
}

static void put_dependency(struct ag_row *rw, struct ag_out *o)
{
	const struct dep *d = &deps[(rw->span >> 4) % N(deps)];
	int64_t dur = draw_duration(rw);
	bool ok = !ag_chance(rw->r, 1, 25);
	bool http = d->type[0] == 'H';

	AG_LIT(o, "\"remoteDependency\":[{\"async\":false,\"baseName\":");
	ag_put_jstr(o, d->name);
	AG_LIT(o, ",\"commandName\":");
	ag_put_jstr(o, d->data);
	AG_LIT(o, ",\"count\":");
	ag_put_u64(o, rw->count);
	AG_LIT(o, ",\"dependencyTypeName\":");
	ag_put_jstr(o, d->type);
	AG_LIT(o, ",\"durationMetric\":");
	put_metric_value(rw, o, dur);
	AG_LIT(o, ",\"id\":");
	put_span(o, rw->span);
	AG_LIT(o, ",\"name\":");
	ag_put_jstr(o, d->name);
	AG_LIT(o, ",\"resultCode\":\"");
	ag_puts(o, http ? (ok ? "200" : "503") : (ok ? "0" : "-2"));
	AG_LIT(o, "\",\"success\":");
	ag_puts(o, ok ? "true" : "false");
	AG_LIT(o, ",\"type\":");
	ag_put_jstr(o, d->type);
	AG_LIT(o, ",\"url\":");
	ag_put_jstr(o, http ? d->data : "");
	AG_LIT(o, ",\"urlData\":{\"base\":\"\",\"hashTag\":\"\",\"host\":");
	ag_put_jstr(o, d->target);
	AG_LIT(o, "}}]");
}

static void put_exception(struct ag_row *rw, struct ag_out *o)
{
	struct exc_chain c;

	draw_chain(rw, &c);
	AG_LIT(o, "\"basicException\":[");
	for (unsigned i = 0; i < c.n; i++) {
		if (i)
			ag_putc(o, ',');
		put_basic_exception(rw, o, &c, i);
	}
	ag_putc(o, ']');
}

static void put_message(struct ag_row *rw, struct ag_out *o)
{
	const struct tmpl *tp = row_tmpl(rw);
	struct dims d = { 0 };
	size_t raw, rawlen, mark = rw->scratch->n;

	raw = render_tmpl(rw, &d, &rawlen);
	AG_LIT(o, "\"message\":[{\"loggerName\":");
	ag_put_jstr(o, logger_name(rw, tp));
	AG_LIT(o, ",\"parameters\":\"\",\"raw\":");
	ag_put_jstrn(o, rw->scratch->p + raw, rawlen);
	AG_LIT(o, ",\"severityLevel\":\"");
	ag_puts(o, severities[tp->severity]);
	AG_LIT(o, "\"}]");
	rw->scratch->n = mark;
}

static void put_event(struct ag_row *rw, struct ag_out *o)
{
	const struct route *rt = &routes[rw->route];

	AG_LIT(o, "\"event\":[{\"name\":");
	ag_put_jstr(o, event_names[(rw->span >> 12) % N(event_names)]);
	AG_LIT(o, ",\"count\":");
	ag_put_u64(o, rw->count);
	AG_LIT(o, ",\"url\":");
	put_url(rw, o, rt);
	AG_LIT(o, ",\"urlData\":{\"base\":\"");
	put_filled(rw, o, rt->tmpl);
	AG_LIT(o, "\",\"host\":");
	ag_put_jstr(o, rw->app->host);
	AG_LIT(o, "}}]");
}

static void put_view(struct ag_row *rw, struct ag_out *o)
{
	const struct route *rt = &routes[rw->route];

	AG_LIT(o, "\"view\":[{\"count\":");
	ag_put_u64(o, rw->count);
	AG_LIT(o, ",\"durationMetric\":");
	put_metric_value(rw, o, draw_duration(rw) * 8);
	AG_LIT(o, ",\"name\":");
	ag_put_jstr(o, rt->page);
	AG_LIT(o, ",\"url\":");
	put_url(rw, o, rt);
	AG_LIT(o, ",\"urlData\":{\"base\":\"");
	put_filled(rw, o, rt->tmpl);
	AG_LIT(o, "\",\"hashTag\":\"\",\"host\":");
	ag_put_jstr(o, rw->app->host);
	AG_LIT(o, "}}]");
}

struct timings {
	int64_t network, send, receive, process, total;
};

static void draw_timings(struct ag_row *rw, struct timings *tm)
{
	tm->network = (int64_t)ag_below(rw->r, 800000);
	tm->send = (int64_t)ag_below(rw->r, 50000);
	tm->receive = 20000 + (int64_t)ag_below(rw->r, 4000000);
	tm->process = 100000 + (int64_t)ag_below(rw->r, 20000000);
	tm->total = tm->network + tm->send + tm->receive + tm->process;
}

static void put_client_perf(struct ag_row *rw, struct ag_out *o)
{
	const struct route *rt = &routes[rw->route];
	struct timings tm;

	draw_timings(rw, &tm);
	AG_LIT(o, "\"clientPerformance\":[{\"clientProcess\":{\"value\":");
	put_num(rw, o, tm.process);
	AG_LIT(o, "},\"name\":");
	ag_put_jstr(o, rt->page);
	AG_LIT(o, ",\"networkConnection\":{\"value\":");
	put_num(rw, o, tm.network);
	AG_LIT(o, "},\"receiveRequest\":{\"value\":");
	put_num(rw, o, tm.receive);
	AG_LIT(o, "},\"sendRequest\":{\"value\":");
	put_num(rw, o, tm.send);
	AG_LIT(o, "},\"total\":{\"value\":");
	put_num(rw, o, tm.total);
	AG_LIT(o, "},\"url\":");
	put_url(rw, o, rt);
	AG_LIT(o, ",\"urlData\":{\"base\":\"");
	put_filled(rw, o, rt->tmpl);
	AG_LIT(o, "\",\"hashTag\":\"\",\"host\":");
	ag_put_jstr(o, rw->app->host);
	AG_LIT(o, ",\"protocol\":\"https\"}}]");
}

/* Counter value in millionths. */
static int64_t counter_value(struct ag_row *rw, const struct counter *c)
{
	switch (c->snake[0]) {
	case 'a':
		return (int64_t)(1500 + ag_below(rw->r, 6000)) * 1048576 * 1000000;
	case 'p':
		if (c->snake[1] == 'r' && c->snake[2] == 'i')
			return (int64_t)(200 + ag_below(rw->r, 900)) * 1048576 * 1000000;
		return (int64_t)ag_below(rw->r, 100000000);
	default:
		return (int64_t)ag_below(rw->r, 500000000);
	}
}

static void put_perf_counter(struct ag_row *rw, struct ag_out *o)
{
	const struct counter *c = &counters[(rw->span >> 8) % N(counters)];
	int64_t v = counter_value(rw, c);

	AG_LIT(o, "\"performanceCounter\":[{\"");
	ag_puts(o, c->snake);
	AG_LIT(o, "\":{\"value\":");
	ag_put_fixed(o, v, 6);
	AG_LIT(o, "},\"categoryName\":");
	ag_put_jstr(o, c->category);
	AG_LIT(o, ",\"counterName\":");
	ag_put_jstr(o, c->counter);
	AG_LIT(o, ",\"instanceName\":");
	ag_put_jstr(o, c->instance);
	AG_LIT(o, "}]");
}

static void put_availability(struct ag_row *rw, struct ag_out *o)
{
	bool ok = !ag_chance(rw->r, 1, 30);
	const char *test = avail_tests[(rw->span >> 8) % N(avail_tests)];

	AG_LIT(o, "\"availability\":[{\"availabilityMetric\":{\"name\":\"availability\",\"value\":");
	ag_puts(o, ok ? "1.0" : "0.0");
	AG_LIT(o, "},\"count\":1,\"dataSizeMetric\":{\"name\":\"dataSize\",\"value\":");
	put_num(rw, o, (int64_t)ag_below(rw->r, 200000));
	AG_LIT(o, "},\"durationMetric\":{\"name\":\"duration\",\"value\":");
	put_num(rw, o, draw_duration(rw));
	AG_LIT(o, "},\"message\":");
	ag_put_jstr(o, ok ? "Passed" : "Request timed out after 120 seconds. (\"https://host/health\")");
	AG_LIT(o, ",\"result\":\"");
	ag_puts(o, ok ? "Pass" : "Fail");
	AG_LIT(o, "\",\"runLocation\":\"");
	ag_puts(o, runlocs[rw->span % N(runlocs)].id);
	AG_LIT(o, "\",\"testName\":");
	ag_put_jstr(o, test);
	AG_LIT(o, ",\"testRunId\":\"");
	ag_put_guid(o, rw->r);
	AG_LIT(o, "\",\"testTimestamp\":\"");
	ag_put_time(o, rw->t, 7);
	AG_LIT(o, "\"}]");
}

static void put_type_array(struct ag_row *rw, struct ag_out *o)
{
	switch (rw->kind) {
	case AG_REQUEST:
		put_request(rw, o);
		break;
	case AG_EVENT:
		put_event(rw, o);
		break;
	case AG_EXCEPTION:
		put_exception(rw, o);
		break;
	case AG_MESSAGE:
		put_message(rw, o);
		break;
	case AG_METRIC:
		AG_LIT(o, "\"metric\":[]");
		break;
	case AG_PAGEVIEW:
		put_view(rw, o);
		break;
	case AG_PAGEVIEWPERF:
		put_client_perf(rw, o);
		break;
	case AG_PERFCOUNTER:
		put_perf_counter(rw, o);
		break;
	case AG_AVAILABILITY:
		put_availability(rw, o);
		break;
	case AG_DEPENDENCY:
		put_dependency(rw, o);
		break;
	default:
		AG_LIT(o, "\"event\":[]");
		break;
	}
}

/* internal.data.id is a version-1 UUID of the ingestion time: event time
 * plus up to 30 s. */
static void put_internal(struct ag_row *rw, struct ag_out *o)
{
	int64_t ing = rw->t - AG_TICKS_PER_SEC + (int64_t)ag_below(rw->r, 31 * AG_TICKS_PER_SEC);
	uint64_t u = (uint64_t)ing + UINT64_C(0x01B21DD213814000);
	uint64_t cs = (ag_below(rw->r, 0x4000)) | 0x8000, node = ag_next(rw->r) & UINT64_C(0xffffffffffff);
	bool swap = ag_chance(rw->r, 1, 10);

	AG_LIT(o, "\"internal\":{\"data\":{");
	if (swap)
		AG_LIT(o, "\"documentVersion\":\"1.61\",");
	AG_LIT(o, "\"id\":\"");
	ag_put_hex(o, u & 0xffffffff, 8);
	ag_putc(o, '-');
	ag_put_hex(o, (u >> 32) & 0xffff, 4);
	ag_putc(o, '-');
	ag_put_hex(o, ((u >> 48) & 0x0fff) | 0x1000, 4);
	ag_putc(o, '-');
	ag_put_hex(o, cs, 4);
	ag_putc(o, '-');
	ag_put_hex(o, node | UINT64_C(0x010000000000), 12);
	ag_putc(o, '"');
	if (!swap)
		AG_LIT(o, ",\"documentVersion\":\"1.61\"");
	AG_LIT(o, "}}");
}

enum ctx_part { C_DEVICE, C_APPLICATION, C_LOCATION, C_DATA, C_USER, C_OPERATION, C_CLOUD,
		C_SERVERDEVICE, C_CUSTOM, C_SESSION, C_PARTS };

static void put_ctx_part(struct ag_row *rw, struct ag_out *o, enum ctx_part p)
{
	const struct ag_app *app = rw->app;
	const struct loc *l = &locs[rw->loc];

	switch (p) {
	case C_DEVICE:
		if (rw->browser) {
			const char *const *b = browsers[rw->user % N(browsers)];

			AG_LIT(o, "\"device\":{\"type\":\"Browser\",\"browser\":\"");
			ag_puts(o, b[0]);
			AG_LIT(o, "\",\"browserVersion\":\"");
			ag_puts(o, b[1]);
			AG_LIT(o, "\",\"os\":\"");
			ag_puts(o, b[2]);
			AG_LIT(o, "\",\"osVersion\":\"");
			ag_puts(o, b[3]);
			AG_LIT(o, "\",\"locale\":\"en-US\",\"screenResolution\":{\"value\":\"1920X1080\"},\"roleName\":");
			ag_put_jstr(o, app->roles[0]);
			ag_putc(o, '}');
		} else {
			AG_LIT(o, "\"device\":{\"type\":\"PC\",\"roleName\":");
			ag_put_jstr(o, app->roles[rw->role]);
			AG_LIT(o, ",\"roleInstance\":");
			ag_put_jstr(o, app->instances[rw->instance]);
			AG_LIT(o, ",\"screenResolution\":{}}");
		}
		break;
	case C_APPLICATION:
		if (app->profile == 0) {
			AG_LIT(o, "\"application\":{}");
		} else {
			AG_LIT(o, "\"application\":{\"version\":\"");
			ag_puts(o, app->version);
			AG_LIT(o, "\"}");
		}
		break;
	case C_LOCATION:
		AG_LIT(o, "\"location\":{\"continent\":\"");
		ag_puts(o, l->continent);
		AG_LIT(o, "\",\"country\":\"");
		ag_puts(o, l->country);
		AG_LIT(o, "\",\"clientip\":\"0.0.0.0\",\"province\":\"");
		ag_puts(o, l->province);
		AG_LIT(o, "\",\"city\":\"");
		ag_puts(o, l->city);
		AG_LIT(o, "\"}");
		break;
	case C_DATA: {
		bool first_time = ag_chance(rw->r, 1, 6);

		AG_LIT(o, "\"data\":{");
		if (first_time) {
			AG_LIT(o, "\"eventTime\":\"");
			ag_put_time(o, rw->t, rw->digits);
			AG_LIT(o, "\",");
		}
		if (rw->kind == AG_AVAILABILITY)
			AG_LIT(o, "\"isSynthetic\":true,\"syntheticSource\":\"Application Insights Availability Monitoring\",\"samplingRate\":");
		else
			AG_LIT(o, "\"isSynthetic\":false,\"samplingRate\":");
		ag_put_fixed(o, rw->rate_x10, 1);
		if (!first_time) {
			AG_LIT(o, ",\"eventTime\":\"");
			ag_put_time(o, rw->t, rw->digits);
			ag_putc(o, '"');
		}
		ag_putc(o, '}');
		break;
	}
	case C_USER:
		AG_LIT(o, "\"user\":{\"isAuthenticated\":");
		ag_puts(o, rw->user & 1 ? "true" : "false");
		AG_LIT(o, ",\"anonId\":\"");
		ag_put_hex(o, rw->user >> 24, 10);
		AG_LIT(o, "\",\"anonAcquisitionDate\":\"0001-01-01T00:00:00Z\",\"authAcquisitionDate\":\"0001-01-01T00:00:00Z\",\"accountAcquisitionDate\":\"0001-01-01T00:00:00Z\"}");
		break;
	case C_OPERATION:
		if (!rw->has_op) {
			AG_LIT(o, "\"operation\":{}");
			break;
		}
		AG_LIT(o, "\"operation\":{\"id\":");
		put_opid(rw, o);
		AG_LIT(o, ",\"parentId\":");
		if (rw->kind == AG_REQUEST || rw->kind == AG_PAGEVIEW || rw->kind == AG_AVAILABILITY)
			put_opid(rw, o);
		else
			put_span(o, rw->req_span);
		AG_LIT(o, ",\"name\":");
		if (rw->kind == AG_AVAILABILITY)
			ag_put_jstr(o, avail_tests[(rw->span >> 8) % N(avail_tests)]);
		else
			ag_put_jstr(o, routes[rw->route].opname);
		ag_putc(o, '}');
		break;
	case C_CLOUD:
		AG_LIT(o, "\"cloud\":{}");
		break;
	case C_SERVERDEVICE:
		AG_LIT(o, "\"serverDevice\":{}");
		break;
	case C_CUSTOM: {
		struct dims d;
		size_t mark = rw->scratch->n;

		fill_dims(rw, &d);
		AG_LIT(o, "\"custom\":{\"dimensions\":");
		put_dims(o, &d, false);
		AG_LIT(o, ",\"metrics\":[");
		if (rw->kind == AG_METRIC) {
			const char *name = metric_names[(rw->span >> 8) % N(metric_names)];
			int64_t v = (int64_t)ag_below(rw->r, 5000);
			unsigned n = 1 + (unsigned)ag_below(rw->r, 60);

			AG_LIT(o, "{");
			ag_put_jstr(o, name);
			AG_LIT(o, ":{\"value\":");
			put_num(rw, o, v * n);
			AG_LIT(o, ",\"count\":");
			put_num(rw, o, n);
			AG_LIT(o, ",\"min\":");
			put_num(rw, o, v / 2);
			AG_LIT(o, ",\"max\":");
			put_num(rw, o, v * 2);
			AG_LIT(o, ",\"stdDev\":");
			ag_put_fixed(o, v * 250, 3);
			AG_LIT(o, ",\"sampledValue\":");
			put_num(rw, o, v);
			AG_LIT(o, "}}");
		}
		AG_LIT(o, "]}");
		rw->scratch->n = mark;
		break;
	}
	case C_SESSION:
		AG_LIT(o, "\"session\":{\"id\":\"");
		ag_put_hex(o, rw->session, 16);
		AG_LIT(o, "\",\"isFirst\":");
		ag_puts(o, rw->session % 7 ? "false" : "true");
		ag_putc(o, '}');
		break;
	default:
		break;
	}
}

static void put_context(struct ag_row *rw, struct ag_out *o)
{
	unsigned order[C_PARTS];

	for (unsigned i = 0; i < C_PARTS; i++)
		order[i] = i;
	/* A little churn in key order, as real exporters show. */
	for (unsigned swaps = (unsigned)ag_below(rw->r, 4); swaps > 1; swaps--) {
		unsigned i = (unsigned)ag_below(rw->r, C_PARTS - 1), t = order[i];

		order[i] = order[i + 1];
		order[i + 1] = t;
	}
	AG_LIT(o, "\"context\":{");
	for (unsigned i = 0; i < C_PARTS; i++) {
		if (i)
			ag_putc(o, ',');
		put_ctx_part(rw, o, (enum ctx_part)order[i]);
	}
	ag_putc(o, '}');
}

void ag_ce_row(struct ag_row *rw, struct ag_out *o)
{
	uint64_t v = ag_below(rw->r, 20);

	ag_putc(o, '{');
	if (v < 16) {
		/* the order real rows show */
		put_type_array(rw, o);
		ag_putc(o, ',');
		put_internal(rw, o);
		ag_putc(o, ',');
		put_context(rw, o);
	} else if (v < 18) {
		put_internal(rw, o);
		ag_putc(o, ',');
		put_type_array(rw, o);
		ag_putc(o, ',');
		put_context(rw, o);
	} else {
		put_context(rw, o);
		ag_putc(o, ',');
		put_type_array(rw, o);
		ag_putc(o, ',');
		put_internal(rw, o);
	}
	ag_putc(o, '}');
}

/* ---- diagnostic-settings records ---- */

static void put_resource_id(struct ag_row *rw, struct ag_out *o)
{
	AG_LIT(o, "\"/SUBSCRIPTIONS/");
	ag_puts(o, rw->g->sub);
	AG_LIT(o, "/RESOURCEGROUPS/");
	ag_puts(o, rw->app->rg);
	AG_LIT(o, "/PROVIDERS/MICROSOFT.INSIGHTS/COMPONENTS/");
	ag_puts(o, rw->app->upper);
	ag_putc(o, '"');
}

static void put_ms(struct ag_out *o, int64_t ticks)
{
	ag_put_fixed(o, ticks, 4);
}

static void put_ds_exception(struct ag_row *rw, struct ag_out *o)
{
	struct exc_chain c;
	const struct exc *outer, *inner;

	draw_chain(rw, &c);
	outer = &excs[c.ex[0]];
	inner = &excs[c.ex[c.n - 1]];
	AG_LIT(o, ",\"ProblemId\":\"");
	ag_puts(o, outer->type);
	ag_putc(o, ' ');
	put_frame_method(rw, o, &c.st[0], 0);
	AG_LIT(o, "\",\"HandledAt\":\"Platform\",\"ExceptionType\":");
	ag_put_jstr(o, outer->type);
	AG_LIT(o, ",\"Assembly\":");
	ag_put_jstr(o, exc_assembly(outer));
	AG_LIT(o, ",\"Method\":\"");
	put_frame_method(rw, o, &c.st[0], 0);
	AG_LIT(o, "\",\"OuterType\":");
	ag_put_jstr(o, outer->type);
	AG_LIT(o, ",\"OuterMessage\":");
	ag_put_jstr(o, outer->message);
	AG_LIT(o, ",\"OuterAssembly\":");
	ag_put_jstr(o, exc_assembly(outer));
	AG_LIT(o, ",\"OuterMethod\":\"");
	put_frame_method(rw, o, &c.st[0], 0);
	AG_LIT(o, "\",\"InnermostType\":");
	ag_put_jstr(o, inner->type);
	AG_LIT(o, ",\"InnermostMessage\":");
	ag_put_jstr(o, inner->message);
	AG_LIT(o, ",\"InnermostAssembly\":");
	ag_put_jstr(o, exc_assembly(inner));
	AG_LIT(o, ",\"InnermostMethod\":\"");
	put_frame_method(rw, o, &c.st[c.n - 1], 0);
	AG_LIT(o, "\",\"SeverityLevel\":3,\"Details\":[");
	for (unsigned i = 0; i < c.n; i++) {
		const struct exc *ex = &excs[c.ex[i]];

		if (i)
			ag_putc(o, ',');
		AG_LIT(o, "{\"parsedStack\":");
		put_parsed_stack(rw, o, &c.st[i], true);
		AG_LIT(o, ",\"outerId\":\"");
		ag_put_u64(o, i ? c.id[i - 1] : 0);
		AG_LIT(o, "\",\"message\":");
		ag_put_jstr(o, ex->message);
		AG_LIT(o, ",\"type\":");
		ag_put_jstr(o, ex->type);
		AG_LIT(o, ",\"id\":\"");
		ag_put_u64(o, c.id[i]);
		AG_LIT(o, "\",\"severityLevel\":\"Error\"");
		if (i == 0) {
			AG_LIT(o, ",\"rawStack\":");
			put_stack_text(rw, o, &c.st[i], ex);
		}
		ag_putc(o, '}');
	}
	ag_putc(o, ']');
}

static void put_ds_kind(struct ag_row *rw, struct ag_out *o)
{
	const struct route *rt = &routes[rw->route];
	struct ag_out *s = rw->scratch;
	int64_t dur;

	switch (rw->kind) {
	case AG_REQUEST: {
		uint64_t roll = ag_below(rw->r, 100);
		unsigned code = roll < 3 ? 500 : roll < 7 ? 404 : 200;

		dur = draw_duration(rw);
		AG_LIT(o, ",\"Id\":");
		put_span(o, rw->req_span);
		AG_LIT(o, ",\"Name\":");
		ag_put_jstr(o, rt->opname);
		AG_LIT(o, ",\"Url\":");
		put_url(rw, o, rt);
		AG_LIT(o, ",\"Success\":");
		ag_puts(o, code < 400 ? "true" : "false");
		AG_LIT(o, ",\"ResultCode\":\"");
		ag_put_u64(o, code);
		AG_LIT(o, "\",\"DurationMs\":");
		put_ms(o, dur);
		AG_LIT(o, ",\"PerformanceBucket\":\"");
		ag_puts(o, perf_bucket(dur));
		ag_putc(o, '"');
		break;
	}
	case AG_DEPENDENCY: {
		const struct dep *d = &deps[(rw->span >> 4) % N(deps)];
		bool ok = !ag_chance(rw->r, 1, 25);

		dur = draw_duration(rw);
		AG_LIT(o, ",\"Id\":");
		put_span(o, rw->span);
		AG_LIT(o, ",\"Target\":");
		ag_put_jstr(o, d->target);
		AG_LIT(o, ",\"DependencyType\":");
		ag_put_jstr(o, d->type);
		AG_LIT(o, ",\"Name\":");
		ag_put_jstr(o, d->name);
		AG_LIT(o, ",\"Data\":");
		ag_put_jstr(o, d->data);
		AG_LIT(o, ",\"Success\":");
		ag_puts(o, ok ? "true" : "false");
		AG_LIT(o, ",\"ResultCode\":\"");
		ag_puts(o, d->type[0] == 'H' ? (ok ? "200" : "503") : (ok ? "0" : "-2"));
		AG_LIT(o, "\",\"DurationMs\":");
		put_ms(o, dur);
		AG_LIT(o, ",\"PerformanceBucket\":\"");
		ag_puts(o, perf_bucket(dur));
		ag_putc(o, '"');
		break;
	}
	case AG_EXCEPTION:
		put_ds_exception(rw, o);
		break;
	case AG_MESSAGE: {
		const struct tmpl *tp = row_tmpl(rw);
		struct dims d = { 0 };
		size_t raw, rawlen, mark = s->n;

		raw = render_tmpl(rw, &d, &rawlen);
		AG_LIT(o, ",\"Message\":");
		ag_put_jstrn(o, s->p + raw, rawlen);
		AG_LIT(o, ",\"SeverityLevel\":");
		ag_put_u64(o, tp->severity);
		s->n = mark;
		break;
	}
	case AG_EVENT:
		AG_LIT(o, ",\"Name\":");
		ag_put_jstr(o, event_names[(rw->span >> 12) % N(event_names)]);
		break;
	case AG_METRIC: {
		int64_t v = (int64_t)ag_below(rw->r, 5000);
		unsigned n = 1 + (unsigned)ag_below(rw->r, 60);

		AG_LIT(o, ",\"Name\":");
		ag_put_jstr(o, metric_names[(rw->span >> 8) % N(metric_names)]);
		AG_LIT(o, ",\"Sum\":");
		ag_put_i64(o, v * n);
		AG_LIT(o, ",\"Min\":");
		ag_put_i64(o, v / 2);
		AG_LIT(o, ",\"Max\":");
		ag_put_i64(o, v * 2);
		AG_LIT(o, ",\"ItemCount\":");
		ag_put_u64(o, n);
		return;
	}
	case AG_PAGEVIEW:
		dur = draw_duration(rw) * 8;
		AG_LIT(o, ",\"Id\":");
		put_span(o, rw->span);
		AG_LIT(o, ",\"Name\":");
		ag_put_jstr(o, rt->page);
		AG_LIT(o, ",\"Url\":");
		put_url(rw, o, rt);
		AG_LIT(o, ",\"DurationMs\":");
		put_ms(o, dur);
		AG_LIT(o, ",\"PerformanceBucket\":\"");
		ag_puts(o, perf_bucket(dur));
		AG_LIT(o, "\",\"SessionId\":\"");
		ag_put_hex(o, rw->session, 16);
		AG_LIT(o, "\",\"UserId\":\"");
		ag_put_hex(o, rw->user >> 24, 10);
		AG_LIT(o, "\",\"ClientBrowser\":\"");
		ag_puts(o, browsers[rw->user % N(browsers)][1]);
		ag_putc(o, '"');
		break;
	case AG_PAGEVIEWPERF: {
		struct timings tm;

		draw_timings(rw, &tm);
		AG_LIT(o, ",\"Name\":");
		ag_put_jstr(o, rt->page);
		AG_LIT(o, ",\"Url\":");
		put_url(rw, o, rt);
		AG_LIT(o, ",\"NetworkDurationMs\":");
		put_ms(o, tm.network);
		AG_LIT(o, ",\"SendDurationMs\":");
		put_ms(o, tm.send);
		AG_LIT(o, ",\"ReceiveDurationMs\":");
		put_ms(o, tm.receive);
		AG_LIT(o, ",\"ProcessingDurationMs\":");
		put_ms(o, tm.process);
		AG_LIT(o, ",\"TotalDurationMs\":");
		put_ms(o, tm.total);
		AG_LIT(o, ",\"PerformanceBucket\":\"");
		ag_puts(o, perf_bucket(tm.total));
		ag_putc(o, '"');
		break;
	}
	case AG_PERFCOUNTER: {
		const struct counter *c = &counters[(rw->span >> 8) % N(counters)];

		AG_LIT(o, ",\"Name\":");
		ag_put_jstr(o, c->counter);
		AG_LIT(o, ",\"Category\":");
		ag_put_jstr(o, c->category);
		AG_LIT(o, ",\"Counter\":");
		ag_put_jstr(o, c->counter);
		AG_LIT(o, ",\"Instance\":");
		ag_put_jstr(o, c->instance);
		AG_LIT(o, ",\"Value\":");
		ag_put_fixed(o, counter_value(rw, c), 6);
		return;
	}
	case AG_AVAILABILITY: {
		bool ok = !ag_chance(rw->r, 1, 30);
		const struct runloc *rl = &runlocs[rw->span % N(runlocs)];

		dur = draw_duration(rw);
		AG_LIT(o, ",\"Id\":\"");
		ag_put_guid(o, rw->r);
		AG_LIT(o, "\",\"Name\":");
		ag_put_jstr(o, avail_tests[(rw->span >> 8) % N(avail_tests)]);
		AG_LIT(o, ",\"Location\":\"");
		ag_puts(o, rl->name);
		AG_LIT(o, "\",\"Success\":");
		ag_puts(o, ok ? "true" : "false");
		AG_LIT(o, ",\"Message\":");
		ag_put_jstr(o, ok ? "Passed" : "Request timed out after 120 seconds.");
		AG_LIT(o, ",\"Size\":");
		ag_put_u64(o, ag_below(rw->r, 200000));
		AG_LIT(o, ",\"DurationMs\":");
		put_ms(o, dur);
		AG_LIT(o, ",\"PerformanceBucket\":\"");
		ag_puts(o, perf_bucket(dur));
		ag_putc(o, '"');
		break;
	}
	case AG_SYSTEMEVENT:
		AG_LIT(o, ",\"Name\":\"AI (Internal): TransmissionFailed\",\"EventType\":1,\"SeverityLevel\":2,\"ProblemId\":\"");
		ag_put_hex(o, rw->span, 8);
		ag_putc(o, '"');
		break;
	default:
		break;
	}
	AG_LIT(o, ",\"ItemCount\":");
	ag_put_u64(o, rw->count);
}

/* The columns after Type, the same in both record layouts. */
static void put_record_body(struct ag_row *rw, struct ag_out *o)
{
	const struct ag_app *app = rw->app;
	const struct loc *l = &locs[rw->loc];
	bool plain = rw->kind == AG_PERFCOUNTER || rw->kind == AG_METRIC;

	AG_LIT(o, ",\"AppRoleInstance\":");
	ag_put_jstr(o, app->instances[rw->instance]);
	AG_LIT(o, ",\"AppRoleName\":");
	ag_put_jstr(o, app->roles[rw->browser ? 0 : rw->role]);
	AG_LIT(o, ",\"ClientCity\":\"");
	ag_puts(o, l->city);
	AG_LIT(o, "\",\"ClientCountryOrRegion\":\"");
	ag_puts(o, l->country);
	AG_LIT(o, "\",\"ClientIP\":\"0.0.0.0\",");
	if (plain)
		AG_LIT(o, "\"ClientOS\":\"Windows_NT 10.0.20348\",");
	AG_LIT(o, "\"ClientStateOrProvince\":\"");
	ag_puts(o, l->province);
	AG_LIT(o, "\",\"ClientType\":\"");
	ag_puts(o, rw->browser ? "Browser" : "PC");
	AG_LIT(o, "\",\"IKey\":\"");
	ag_puts(o, app->ikey_guid);
	AG_LIT(o, "\",\"_BilledSize\":");
	ag_put_u64(o, 500 + ag_below(rw->r, 1200));
	if (rw->has_op) {
		AG_LIT(o, ",\"OperationName\":");
		if (rw->kind == AG_AVAILABILITY)
			ag_put_jstr(o, avail_tests[(rw->span >> 8) % N(avail_tests)]);
		else
			ag_put_jstr(o, routes[rw->route].opname);
		AG_LIT(o, ",\"OperationId\":");
		put_opid(rw, o);
		AG_LIT(o, ",\"ParentId\":");
		if (rw->kind == AG_REQUEST || rw->kind == AG_PAGEVIEW || rw->kind == AG_AVAILABILITY)
			put_opid(rw, o);
		else
			put_span(o, rw->req_span);
	}
	AG_LIT(o, ",\"SDKVersion\":\"");
	ag_puts(o, app->sdk);
	ag_putc(o, '"');
	if (!plain || ag_chance(rw->r, 1, 2)) {
		struct dims d;
		size_t mark = rw->scratch->n;

		fill_dims(rw, &d);
		AG_LIT(o, ",\"Properties\":");
		put_dims(o, &d, true);
		rw->scratch->n = mark;
	}
	if (rw->kind == AG_EVENT) {
		AG_LIT(o, ",\"Measurements\":{\"Items\":");
		ag_put_u64(o, 1 + ag_below(rw->r, 9));
		ag_putc(o, '}');
	}
	put_ds_kind(rw, o);
}

void ag_ds_row(struct ag_row *rw, struct ag_out *o)
{
	AG_LIT(o, "{\"time\":\"");
	ag_put_time(o, rw->t, 7);
	AG_LIT(o, "\",\"resourceId\":");
	put_resource_id(rw, o);
	AG_LIT(o, ",\"ResourceGUID\":\"");
	ag_puts(o, rw->app->resource_guid);
	AG_LIT(o, "\",\"Type\":\"");
	ag_puts(o, ag_kinds[rw->kind].ds);
	ag_putc(o, '"');
	put_record_body(rw, o);
	ag_putc(o, '}');
}

void ag_ws_row(struct ag_row *rw, struct ag_out *o, const char *tenant, bool named)
{
	AG_LIT(o, "{\"TenantId\":\"");
	ag_puts(o, tenant);
	AG_LIT(o, "\",\"TimeGenerated\":\"");
	ag_put_time(o, rw->t, 7);
	if (named) {
		AG_LIT(o, "\",\"_ResourceId\":\"/subscriptions/");
		ag_put_lower(o, rw->g->sub);
		AG_LIT(o, "/resourcegroups/");
		ag_put_lower(o, rw->app->rg);
		AG_LIT(o, "/providers/microsoft.insights/components/");
		ag_puts(o, rw->app->name);
	}
	AG_LIT(o, "\",\"_ItemId\":\"");
	ag_put_guid(o, rw->r);
	AG_LIT(o, "\",\"Type\":\"");
	ag_puts(o, ag_kinds[rw->kind].ds);
	ag_putc(o, '"');
	put_record_body(rw, o);
	ag_putc(o, '}');
}
