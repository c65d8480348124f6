/* test_blobxml.c: the Blob service's XML: listings, errors, stats, and the
 * block list body; hostile and malformed documents must fail cleanly. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/blobxml.h"

#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"

static ai_result list(const char *xml, struct ai_blob_list *l)
{
	return ai_blobxml_parse_list(xml, strlen(xml), l);
}

static ai_time http_time(const char *s)
{
	ai_time t;

	cr_assert_eq(ai_parse_http_date(s, &t), AI_OK);
	return t;
}

/* List Blobs page from Azurite 3.37.0, maxresults=2&include=metadata. */
static const char azurite_page[] =
	XML_DECL
	"<EnumerationResults ServiceEndpoint=\"http://127.0.0.1:10000/devstoreaccount1\" "
	"ContainerName=\"mycontainer\"><Prefix/><Marker/><MaxResults>2</MaxResults><Blobs>"
	"<Blob><Name>a.txt</Name><Properties>"
	"<Creation-Time>Tue, 24 Nov 2026 01:42:59 GMT</Creation-Time>"
	"<Last-Modified>Tue, 24 Nov 2026 01:42:59 GMT</Last-Modified>"
	"<Etag>0x2368E58EBA2C500</Etag><Content-Length>1</Content-Length>"
	"<Content-Type>application/octet-stream</Content-Type>"
	"<Content-MD5>ndTkYSaMgDT1yFZOFVxnpg==</Content-MD5><BlobType>BlockBlob</BlobType>"
	"<LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState>"
	"<ServerEncrypted>true</ServerEncrypted><AccessTier>Hot</AccessTier>"
	"<AccessTierInferred>true</AccessTierInferred>"
	"<AccessTierChangeTime>Tue, 24 Nov 2026 01:42:59 GMT</AccessTierChangeTime>"
	"</Properties><Metadata><k>v</k></Metadata></Blob>"
	"<Blob><Name>dir1/b.txt</Name><Properties>"
	"<Creation-Time>Tue, 24 Nov 2026 01:43:00 GMT</Creation-Time>"
	"<Last-Modified>Tue, 24 Nov 2026 01:43:01 GMT</Last-Modified>"
	"<Etag>\"0x2368E58EBB1E740\"</Etag><Content-Length>123456789012</Content-Length>"
	"<Content-Type>application/octet-stream</Content-Type>"
	"<BlobType>AppendBlob</BlobType><LeaseStatus>locked</LeaseStatus>"
	"<LeaseState>leased</LeaseState><LeaseDuration>infinite</LeaseDuration>"
	"<ServerEncrypted>true</ServerEncrypted></Properties><Metadata/></Blob>"
	"</Blobs><NextMarker>dir1/b.txt</NextMarker></EnumerationResults>";

Test(blobxml, azurite_page_fills_every_field)
{
	struct ai_blob_list l;

	cr_assert_eq(list(azurite_page, &l), AI_OK);
	cr_assert_eq(l.n, 2);
	cr_assert_eq(l.nprefixes, 0);
	cr_assert_str_eq(l.blobs[0].name, "a.txt");
	cr_assert_eq(l.blobs[0].size, 1);
	cr_assert_str_eq(l.blobs[0].etag, "0x2368E58EBA2C500");
	cr_assert_eq(l.blobs[0].last_modified, http_time("Tue, 24 Nov 2026 01:42:59 GMT"));
	cr_assert_eq(l.blobs[0].type, AI_BLOB_BLOCK);
	cr_assert_eq(l.blobs[0].lease, AI_LEASE_AVAILABLE);
	cr_assert_str_eq(l.blobs[1].name, "dir1/b.txt");
	cr_assert_eq(l.blobs[1].size, 123456789012ULL);
	cr_assert_str_eq(l.blobs[1].etag, "0x2368E58EBB1E740", "quotes are stripped");
	cr_assert_eq(l.blobs[1].last_modified, http_time("Tue, 24 Nov 2026 01:43:01 GMT"));
	cr_assert_eq(l.blobs[1].type, AI_BLOB_APPEND);
	cr_assert_eq(l.blobs[1].lease, AI_LEASE_LEASED);
	cr_assert_str_eq(l.next_marker, "dir1/b.txt");
	ai_blob_list_release(&l);
	cr_assert_null(l.blobs);
	cr_assert_null(l.next_marker);
}

Test(blobxml, prefixes_come_in_any_order)
{
	static const char xml[] =
		XML_DECL "<EnumerationResults ContainerName=\"c\"><Prefix>logs/</Prefix>"
		"<MaxResults>5000</MaxResults><Delimiter>/</Delimiter><Blobs>"
		"<BlobPrefix><Name>logs/2024/</Name></BlobPrefix>"
		"<Blob><Name>logs/top.json</Name><Properties><Content-Length>0</Content-Length>"
		"<BlobType>PageBlob</BlobType><LeaseState>broken</LeaseState></Properties></Blob>"
		"<BlobPrefix><Name>logs/2025/</Name></BlobPrefix>"
		"</Blobs><NextMarker/></EnumerationResults>";
	struct ai_blob_list l;

	cr_assert_eq(list(xml, &l), AI_OK);
	cr_assert_eq(l.nprefixes, 2);
	cr_assert_str_eq(l.prefixes[0], "logs/2024/");
	cr_assert_str_eq(l.prefixes[1], "logs/2025/");
	cr_assert_eq(l.n, 1);
	cr_assert_str_eq(l.blobs[0].name, "logs/top.json");
	cr_assert_eq(l.blobs[0].type, AI_BLOB_PAGE);
	cr_assert_eq(l.blobs[0].lease, AI_LEASE_BROKEN);
	cr_assert_eq(l.blobs[0].last_modified, AI_TIME_MIN, "absent date stays unknown");
	cr_assert_null(l.next_marker);
	ai_blob_list_release(&l);
}

Test(blobxml, properties_in_any_order_and_name_after_them)
{
	static const char xml[] =
		"<EnumerationResults><Blobs><Blob><Properties><LeaseState>expired</LeaseState>"
		"<BlobType>Unheard</BlobType><Content-Length>7</Content-Length>"
		"<Last-Modified>Mon, 01 Jan 2024 00:00:00 GMT</Last-Modified></Properties>"
		"<Name>late</Name></Blob><Blob><Name>x</Name><Properties>"
		"<LeaseState>breaking</LeaseState></Properties></Blob></Blobs>"
		"</EnumerationResults>";
	struct ai_blob_list l;

	cr_assert_eq(list(xml, &l), AI_OK);
	cr_assert_eq(l.n, 2);
	cr_assert_str_eq(l.blobs[0].name, "late");
	cr_assert_eq(l.blobs[0].size, 7);
	cr_assert_eq(l.blobs[0].type, AI_BLOB_UNKNOWN);
	cr_assert_eq(l.blobs[0].lease, AI_LEASE_EXPIRED);
	cr_assert_eq(l.blobs[0].last_modified, http_time("Mon, 01 Jan 2024 00:00:00 GMT"));
	cr_assert_eq(l.blobs[1].lease, AI_LEASE_BREAKING);
	cr_assert_str_eq(l.blobs[1].etag, "");
	ai_blob_list_release(&l);
}

Test(blobxml, only_the_known_paths_count)
{
	/* A Name inside Metadata, a Content-Length nested one level too deep
	 * and a Blob outside Blobs must all be ignored. */
	static const char xml[] =
		"<EnumerationResults><Blob><Name>stray</Name></Blob><Blobs>"
		"<Blob><Name>real</Name><Properties><Extra><Content-Length>9</Content-Length>"
		"</Extra><Content-Length>3</Content-Length></Properties>"
		"<Metadata><Name>fake</Name></Metadata></Blob></Blobs>"
		"<Other><NextMarker>no</NextMarker></Other></EnumerationResults>";
	struct ai_blob_list l;

	cr_assert_eq(list(xml, &l), AI_OK);
	cr_assert_eq(l.n, 1);
	cr_assert_str_eq(l.blobs[0].name, "real");
	cr_assert_eq(l.blobs[0].size, 3);
	cr_assert_null(l.next_marker);
	ai_blob_list_release(&l);
}

Test(blobxml, next_marker_absent_empty_or_set)
{
	struct ai_blob_list l;

	cr_assert_eq(list("<EnumerationResults><Blobs/></EnumerationResults>", &l), AI_OK);
	cr_assert_eq(l.n, 0);
	cr_assert_null(l.next_marker);
	ai_blob_list_release(&l);
	cr_assert_eq(list("<EnumerationResults><Blobs/><NextMarker/></EnumerationResults>", &l),
	             AI_OK);
	cr_assert_null(l.next_marker);
	ai_blob_list_release(&l);
	cr_assert_eq(list("<EnumerationResults><NextMarker></NextMarker></EnumerationResults>",
	                  &l), AI_OK);
	cr_assert_null(l.next_marker);
	ai_blob_list_release(&l);
	cr_assert_eq(list("<EnumerationResults><NextMarker>2!72!MDAwMDEx</NextMarker>"
	                  "<Blobs/></EnumerationResults>", &l), AI_OK);
	cr_assert_str_eq(l.next_marker, "2!72!MDAwMDEx");
	ai_blob_list_release(&l);
}

Test(blobxml, unusual_names_come_back_decoded)
{
	static const char xml[] =
		"<EnumerationResults><Blobs>"
		"<Blob><Name>a &amp; b &lt;c&gt; &quot;d&apos;.txt</Name></Blob>"
		"<Blob><Name>donn\xc3\xa9" "es/\xe2\x82\xac \xf0\x9f\x98\x80.json</Name></Blob>"
		"<Blob><Name>  spaced  name  </Name></Blob>"
		"<Blob><Name>&#x41;&#233;<![CDATA[<raw>&]]></Name></Blob>"
		"<BlobPrefix><Name>d&amp;d/</Name></BlobPrefix>"
		"</Blobs></EnumerationResults>";
	struct ai_blob_list l;

	cr_assert_eq(list(xml, &l), AI_OK);
	cr_assert_eq(l.n, 4);
	cr_assert_str_eq(l.blobs[0].name, "a & b <c> \"d'.txt");
	cr_assert_str_eq(l.blobs[1].name, "donn\xc3\xa9" "es/\xe2\x82\xac \xf0\x9f\x98\x80.json");
	cr_assert_str_eq(l.blobs[2].name, "  spaced  name  ");
	cr_assert_str_eq(l.blobs[3].name, "A\xc3\xa9<raw>&");
	cr_assert_str_eq(l.prefixes[0], "d&d/");
	ai_blob_list_release(&l);
}

Test(blobxml, encoded_names_are_percent_decoded)
{
	static const char xml[] =
		"<EnumerationResults><Blobs>"
		"<Blob><Name Encoded=\"true\">a%01b%2Fc%C3%A9</Name></Blob>"
		"<Blob><Name Encoded=\"false\">100%25</Name></Blob>"
		"<BlobPrefix><Name Encoded=\"true\">p%0A/</Name></BlobPrefix>"
		"</Blobs></EnumerationResults>";
	static const char *const bad[] = {
		"<EnumerationResults><Blobs><Blob><Name Encoded=\"true\">a%00</Name></Blob>"
		"</Blobs></EnumerationResults>",
		"<EnumerationResults><Blobs><Blob><Name Encoded=\"true\">a%0</Name></Blob>"
		"</Blobs></EnumerationResults>",
		"<EnumerationResults><Blobs><Blob><Name Encoded=\"true\">a%zz</Name></Blob>"
		"</Blobs></EnumerationResults>",
	};
	struct ai_blob_list l;

	cr_assert_eq(list(xml, &l), AI_OK);
	cr_assert_str_eq(l.blobs[0].name, "a\x01" "b/c\xc3\xa9");
	cr_assert_str_eq(l.blobs[1].name, "100%25", "only Encoded=\"true\" is decoded");
	cr_assert_str_eq(l.prefixes[0], "p\n/");
	ai_blob_list_release(&l);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		cr_assert_eq(list(bad[i], &l), AI_ERR_PROTOCOL, "case %zu", i);
}

Test(blobxml, encoded_name_is_bounded_after_decoding)
{
	char xml[4000], *p = xml;
	struct ai_blob_list l;

	p += sprintf(p, "<EnumerationResults><Blobs><Blob><Name Encoded=\"true\">");
	for (int i = 0; i < 1024; i++)
		p += sprintf(p, "%%01");
	sprintf(p, "</Name></Blob></Blobs></EnumerationResults>");
	cr_assert_eq(list(xml, &l), AI_OK, "1024 escapes decode to 1024 bytes");
	cr_assert_eq(strlen(l.blobs[0].name), 1024);
	ai_blob_list_release(&l);
	p = strstr(xml, "</Name>");
	memmove(p + 1, p, strlen(p) + 1);
	*p = 'x';
	cr_assert_eq(list(xml, &l), AI_ERR_PROTOCOL, "1025 bytes once decoded");
}

Test(blobxml, longest_name_fits_one_more_does_not)
{
	char name[1026], xml[1200];
	struct ai_blob_list l;

	memset(name, 'n', 1024);
	name[1024] = '\0';
	snprintf(xml, sizeof xml, "<EnumerationResults><Blobs><Blob><Name>%s</Name></Blob>"
	         "</Blobs></EnumerationResults>", name);
	cr_assert_eq(list(xml, &l), AI_OK);
	cr_assert_eq(strlen(l.blobs[0].name), 1024);
	ai_blob_list_release(&l);
	strcat(name, "n");
	snprintf(xml, sizeof xml, "<EnumerationResults><Blobs><Blob><Name>%s</Name></Blob>"
	         "</Blobs></EnumerationResults>", name);
	cr_assert_eq(list(xml, &l), AI_ERR_PROTOCOL);
	cr_assert_eq(l.n, 0);
	cr_assert_null(l.blobs);
}

Test(blobxml, oversized_fields_are_refused)
{
	char etag[200], xml[400];
	struct ai_blob_list l;

	memset(etag, 'e', 100);
	etag[100] = '\0';
	snprintf(xml, sizeof xml, "<EnumerationResults><Blobs><Blob><Name>a</Name><Properties>"
	         "<Etag>%s</Etag></Properties></Blob></Blobs></EnumerationResults>", etag);
	cr_assert_eq(list(xml, &l), AI_ERR_PROTOCOL, "etag longer than AI_ETAG_MAX");
}

/* Builds a page of n blobs (and optionally n prefixes). */
static char *big_page(size_t n, int prefixes)
{
	size_t cap = 100 + n * 512;
	char *xml = malloc(cap), *p = xml;

	cr_assert_not_null(xml);
	p += sprintf(p, "<EnumerationResults><Blobs>");
	for (size_t i = 0; i < n; i++) {
		p += sprintf(p, "<Blob><Name>blob-%06zu</Name><Properties><Content-Length>%zu"
		             "</Content-Length><Etag>0x%zX</Etag><Content-Type>application/octet-stream"
		             "</Content-Type><Content-MD5>ndTkYSaMgDT1yFZOFVxnpg==</Content-MD5>"
		             "<BlobType>BlockBlob</BlobType><LeaseState>available</LeaseState>"
		             "</Properties></Blob>", i, i, i);
		if (prefixes)
			p += sprintf(p, "<BlobPrefix><Name>p%zu/</Name></BlobPrefix>", i);
	}
	sprintf(p, "</Blobs></EnumerationResults>");
	return xml;
}

Test(blobxml, full_page_of_5000_parses)
{
	char *xml = big_page(5000, 1);
	struct ai_blob_list l;

	cr_assert_gt(strlen(xml), 1u << 20, "more than one parser chunk");
	cr_assert_eq(list(xml, &l), AI_OK);
	cr_assert_eq(l.n, 5000);
	cr_assert_eq(l.nprefixes, 5000);
	cr_assert_str_eq(l.blobs[4999].name, "blob-004999");
	cr_assert_eq(l.blobs[4999].size, 4999);
	cr_assert_str_eq(l.prefixes[4999], "p4999/");
	ai_blob_list_release(&l);
	free(xml);
}

Test(blobxml, more_than_5000_entries_are_refused)
{
	char *xml = big_page(5001, 0);
	struct ai_blob_list l;

	cr_assert_eq(list(xml, &l), AI_ERR_PROTOCOL);
	cr_assert_eq(l.n, 0);
	free(xml);
}

struct bad {
	char name[48];
	char xml[320];
};

static struct bad bad_docs[] = {
	{ "empty", "" },
	{ "not xml", "HTTP/1.1 200 OK" },
	{ "truncated", "<EnumerationResults><Blobs><Blob><Name>a</Na" },
	{ "unclosed root", "<EnumerationResults><Blobs></Blobs>" },
	{ "mismatched tags", "<EnumerationResults><Blobs></Blob></EnumerationResults>" },
	{ "wrong root", "<Error><Code>X</Code></Error>" },
	{ "two roots", "<EnumerationResults/><EnumerationResults/>" },
	{ "undefined entity", "<EnumerationResults><Blobs><Blob><Name>&x;</Name></Blob>"
	  "</Blobs></EnumerationResults>" },
	{ "nul character reference", "<EnumerationResults><Blobs><Blob><Name>a&#0;</Name>"
	  "</Blob></Blobs></EnumerationResults>" },
	{ "blob without name", "<EnumerationResults><Blobs><Blob><Properties/></Blob>"
	  "</Blobs></EnumerationResults>" },
	{ "blob with empty name", "<EnumerationResults><Blobs><Blob><Name/></Blob>"
	  "</Blobs></EnumerationResults>" },
	{ "prefix without name", "<EnumerationResults><Blobs><BlobPrefix/></Blobs>"
	  "</EnumerationResults>" },
	{ "size not a number", "<EnumerationResults><Blobs><Blob><Name>a</Name><Properties>"
	  "<Content-Length>12x</Content-Length></Properties></Blob></Blobs></EnumerationResults>" },
	{ "negative size", "<EnumerationResults><Blobs><Blob><Name>a</Name><Properties>"
	  "<Content-Length>-1</Content-Length></Properties></Blob></Blobs></EnumerationResults>" },
	{ "bad date", "<EnumerationResults><Blobs><Blob><Name>a</Name><Properties>"
	  "<Last-Modified>2024-01-01T00:00:00Z</Last-Modified></Properties></Blob></Blobs>"
	  "</EnumerationResults>" },
	{ "unknown lease state", "<EnumerationResults><Blobs><Blob><Name>a</Name><Properties>"
	  "<LeaseState>maybe</LeaseState></Properties></Blob></Blobs></EnumerationResults>" },
	{ "invalid utf-8", "<EnumerationResults><Blobs><Blob><Name>\xff\xfe</Name></Blob>"
	  "</Blobs></EnumerationResults>" },
	{ "trailing garbage", "<EnumerationResults/>junk" },
};

ParameterizedTestParameters(blobxml, malformed_listing_is_a_protocol_error)
{
	return cr_make_param_array(struct bad, bad_docs, sizeof bad_docs / sizeof bad_docs[0]);
}

ParameterizedTest(struct bad *b, blobxml, malformed_listing_is_a_protocol_error)
{
	struct ai_blob_list l;

	cr_assert_eq(list(b->xml, &l), AI_ERR_PROTOCOL, "%s", b->name);
	cr_assert_eq(l.n, 0);
	cr_assert_eq(l.nprefixes, 0);
	cr_assert_null(l.next_marker);
}

Test(blobxml, every_truncation_of_a_page_fails_cleanly)
{
	struct ai_blob_list l;
	size_t n = strlen(azurite_page);

	for (size_t i = 0; i < n; i++) {
		ai_result r = ai_blobxml_parse_list(azurite_page, i, &l);

		cr_assert_eq(r, AI_ERR_PROTOCOL, "prefix of %zu bytes", i);
		cr_assert_eq(l.n, 0);
	}
}

Test(blobxml, deep_nesting_is_refused)
{
	char xml[2048], *p = xml;
	struct ai_blob_list l;

	p += sprintf(p, "<EnumerationResults>");
	for (int i = 0; i < 40; i++)
		p += sprintf(p, "<a>");
	for (int i = 0; i < 40; i++)
		p += sprintf(p, "</a>");
	sprintf(p, "</EnumerationResults>");
	cr_assert_eq(list(xml, &l), AI_ERR_PROTOCOL);
}

Test(blobxml, entity_expansion_is_refused)
{
	static const char laughs[] =
		"<?xml version=\"1.0\"?><!DOCTYPE EnumerationResults ["
		"<!ENTITY l0 \"lol\">"
		"<!ENTITY l1 \"&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;\">"
		"<!ENTITY l2 \"&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;\">"
		"<!ENTITY l3 \"&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;\">"
		"<!ENTITY l4 \"&l3;&l3;&l3;&l3;&l3;&l3;&l3;&l3;&l3;&l3;\">"
		"<!ENTITY l5 \"&l4;&l4;&l4;&l4;&l4;&l4;&l4;&l4;&l4;&l4;\">"
		"<!ENTITY l6 \"&l5;&l5;&l5;&l5;&l5;&l5;&l5;&l5;&l5;&l5;\">"
		"<!ENTITY l7 \"&l6;&l6;&l6;&l6;&l6;&l6;&l6;&l6;&l6;&l6;\">"
		"<!ENTITY l8 \"&l7;&l7;&l7;&l7;&l7;&l7;&l7;&l7;&l7;&l7;\">"
		"<!ENTITY l9 \"&l8;&l8;&l8;&l8;&l8;&l8;&l8;&l8;&l8;&l8;\">"
		"]><EnumerationResults><Blobs><Blob><Name>&l9;</Name></Blob></Blobs>"
		"</EnumerationResults>";
	static const char external[] =
		"<?xml version=\"1.0\"?><!DOCTYPE EnumerationResults ["
		"<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
		"<EnumerationResults><NextMarker>&x;</NextMarker></EnumerationResults>";
	static const char bare_doctype[] =
		"<!DOCTYPE EnumerationResults><EnumerationResults/>";
	struct ai_blob_list l;
	char code[64], msg[64];

	cr_assert_eq(list(laughs, &l), AI_ERR_PROTOCOL);
	cr_assert_eq(list(external, &l), AI_ERR_PROTOCOL);
	cr_assert_eq(list(bare_doctype, &l), AI_ERR_PROTOCOL);
	cr_assert_eq(ai_blobxml_parse_error(laughs, strlen(laughs), code, sizeof code, msg,
	                                    sizeof msg), AI_ERR_PROTOCOL);
}

Test(blobxml, containers_become_prefixes)
{
	static const char xml[] =
		XML_DECL "<EnumerationResults ServiceEndpoint=\"http://127.0.0.1:10000/"
		"devstoreaccount1\"><Prefix/><MaxResults>2</MaxResults><Containers>"
		"<Container><Name>alpha</Name><Properties><Last-Modified>Mon, 01 Jan 2024 "
		"00:00:00 GMT</Last-Modified><Etag>\"0x1\"</Etag></Properties></Container>"
		"<Container><Name>insights-logs</Name></Container></Containers>"
		"<NextMarker>zeta</NextMarker></EnumerationResults>";
	static const char nameless[] =
		"<EnumerationResults><Containers><Container/></Containers></EnumerationResults>";
	struct ai_blob_list l;

	cr_assert_eq(ai_blobxml_parse_containers(xml, strlen(xml), &l), AI_OK);
	cr_assert_eq(l.n, 0);
	cr_assert_eq(l.nprefixes, 2);
	cr_assert_str_eq(l.prefixes[0], "alpha/");
	cr_assert_str_eq(l.prefixes[1], "insights-logs/");
	cr_assert_str_eq(l.next_marker, "zeta");
	ai_blob_list_release(&l);
	cr_assert_eq(ai_blobxml_parse_containers(nameless, strlen(nameless), &l), AI_ERR_PROTOCOL);
}

Test(blobxml, error_message_is_cut_at_its_first_line)
{
	static const char xml[] =
		XML_DECL "\n<Error>\n  <Code>BlobAlreadyExists</Code>\n"
		"  <Message>The specified blob already exists.\n"
		"RequestId:51387f4f-ccdb-4340-b885-861959035179\n"
		"Time:2026-11-24T01:42:49.502Z</Message>\n</Error>";
	char code[64], msg[256];

	cr_assert_eq(ai_blobxml_parse_error(xml, strlen(xml), code, sizeof code, msg, sizeof msg),
	             AI_OK);
	cr_assert_str_eq(code, "BlobAlreadyExists");
	cr_assert_str_eq(msg, "The specified blob already exists.");
}

Test(blobxml, error_body_may_start_with_a_bom)
{
	static const char xml[] =
		"\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>ServerBusy</Code>"
		"<Message>The server is busy.\nRequestId:r\nTime:t</Message></Error>";
	char code[64], msg[256];

	cr_assert_eq(ai_blobxml_parse_error(xml, strlen(xml), code, sizeof code, msg, sizeof msg),
	             AI_OK);
	cr_assert_str_eq(code, "ServerBusy");
	cr_assert_str_eq(msg, "The server is busy.");
}

Test(blobxml, error_with_extra_elements)
{
	static const char xml[] =
		XML_DECL "<Error><Code>AuthenticationFailed</Code><Message>Server failed to "
		"authenticate the request.\r\nRequestId:x\r\nTime:y</Message>"
		"<AuthenticationErrorDetail>The MAC signature found in the HTTP request 'abc' is "
		"not the same as any computed signature.</AuthenticationErrorDetail></Error>";
	static const char query[] =
		"<Error><Message>Value for one of the query parameters is invalid.</Message>"
		"<QueryParameterName>comp</QueryParameterName><QueryParameterValue>x"
		"</QueryParameterValue><Reason/><Code>InvalidQueryParameterValue</Code></Error>";
	char code[64], msg[256];

	cr_assert_eq(ai_blobxml_parse_error(xml, strlen(xml), code, sizeof code, msg, sizeof msg),
	             AI_OK);
	cr_assert_str_eq(code, "AuthenticationFailed");
	cr_assert_str_eq(msg, "Server failed to authenticate the request.");
	cr_assert_eq(ai_blobxml_parse_error(query, strlen(query), code, sizeof code, msg,
	                                    sizeof msg), AI_OK);
	cr_assert_str_eq(code, "InvalidQueryParameterValue");
	cr_assert_str_eq(msg, "Value for one of the query parameters is invalid.");
}

Test(blobxml, error_edges)
{
	static const char no_msg[] = "<Error><Code>ServerBusy</Code></Error>";
	static const char no_code[] = "<Error><Message>m</Message></Error>";
	static const char long_msg[] = "<Error><Code>C</Code><Message>abcdef\xc3\xa9</Message></Error>";
	char code[8], msg[8], wide[16];

	cr_assert_eq(ai_blobxml_parse_error(no_msg, strlen(no_msg), code, sizeof code, msg,
	                                    sizeof msg), AI_ERR_PROTOCOL, "code too long for cap");
	cr_assert_str_eq(code, "");
	cr_assert_eq(ai_blobxml_parse_error(no_msg, strlen(no_msg), wide, sizeof wide, msg,
	                                    sizeof msg), AI_OK);
	cr_assert_str_eq(wide, "ServerBusy");
	cr_assert_str_eq(msg, "");
	cr_assert_eq(ai_blobxml_parse_error(no_code, strlen(no_code), code, sizeof code, msg,
	                                    sizeof msg), AI_ERR_PROTOCOL);
	cr_assert_eq(ai_blobxml_parse_error(long_msg, strlen(long_msg), code, sizeof code, msg,
	                                    sizeof msg), AI_OK);
	cr_assert_str_eq(msg, "abcdef", "cut before a split UTF-8 sequence");
	cr_assert_eq(ai_blobxml_parse_error("<Error>", 7, code, sizeof code, msg, sizeof msg),
	             AI_ERR_PROTOCOL);
}

Test(blobxml, long_error_message_is_cut_not_refused)
{
	size_t n = 20000;
	char *xml = malloc(n + 64), msg[128], code[16];

	cr_assert_not_null(xml);
	strcpy(xml, "<Error><Code>C</Code><Message>");
	memset(xml + strlen(xml), 'm', n);
	strcpy(xml + 30 + n, "</Message></Error>");
	cr_assert_eq(ai_blobxml_parse_error(xml, strlen(xml), code, sizeof code, msg, sizeof msg),
	             AI_OK);
	cr_assert_eq(strlen(msg), sizeof msg - 1);
	free(xml);
}

Test(blobxml, stats_status_and_sync_time)
{
	static const char live[] =
		XML_DECL "<StorageServiceStats><GeoReplication><Status>live</Status>"
		"<LastSyncTime>Wed, 19 Jun 2024 10:10:10 GMT</LastSyncTime></GeoReplication>"
		"</StorageServiceStats>";
	static const char bootstrap[] =
		"<StorageServiceStats><GeoReplication><LastSyncTime/><Status>bootstrap</Status>"
		"</GeoReplication></StorageServiceStats>";
	static const char dotnet_min[] =
		"<StorageServiceStats><GeoReplication><Status>unavailable</Status><LastSyncTime>"
		"Mon, 01 Jan 0001 00:00:00 GMT</LastSyncTime></GeoReplication></StorageServiceStats>";
	char st[16];
	ai_time t;

	cr_assert_eq(ai_blobxml_parse_stats(live, strlen(live), st, sizeof st, &t), AI_OK);
	cr_assert_str_eq(st, "live");
	cr_assert_eq(t, http_time("Wed, 19 Jun 2024 10:10:10 GMT"));
	cr_assert_eq(ai_blobxml_parse_stats(bootstrap, strlen(bootstrap), st, sizeof st, &t),
	             AI_OK);
	cr_assert_str_eq(st, "bootstrap");
	cr_assert_eq(t, AI_TIME_MIN);
	cr_assert_eq(ai_blobxml_parse_stats(dotnet_min, strlen(dotnet_min), st, sizeof st, &t),
	             AI_OK);
	cr_assert_str_eq(st, "unavailable");
	cr_assert_eq(t, AI_TIME_MIN);
}

Test(blobxml, stats_must_be_well_formed)
{
	static const char *const bad[] = {
		"<StorageServiceStats><GeoReplication><LastSyncTime/></GeoReplication>"
		"</StorageServiceStats>",
		"<StorageServiceStats><GeoReplication><Status>live</Status><LastSyncTime>"
		"yesterday</LastSyncTime></GeoReplication></StorageServiceStats>",
		"<StorageServiceStats><GeoReplication><Status>far-too-long-a-status</Status>"
		"</GeoReplication></StorageServiceStats>",
		"<Error><Code>InsufficientAccountPermissions</Code></Error>",
		"<StorageServiceStats><GeoReplication><Status>live",
	};
	char st[16];
	ai_time t = 0;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_assert_eq(ai_blobxml_parse_stats(bad[i], strlen(bad[i]), st, sizeof st, &t),
		             AI_ERR_PROTOCOL, "case %zu", i);
		cr_assert_str_eq(st, "");
		cr_assert_eq(t, AI_TIME_MIN);
	}
}

Test(blobxml, block_list_exact_bytes)
{
	const char *ids[] = { "AAAAAAAAAAE=", "AAAAAAAAAAI+/w==" };
	struct ai_buf b;

	ai_buf_init(&b, 1024);
	cr_assert_eq(ai_blobxml_block_list(ids, 2, &b), AI_OK);
	cr_assert_str_eq(ai_buf_str(&b),
	                 "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>"
	                 "<Latest>AAAAAAAAAAE=</Latest><Latest>AAAAAAAAAAI+/w==</Latest>"
	                 "</BlockList>");
	ai_buf_reset(&b);
	cr_assert_eq(ai_blobxml_block_list(ids, 0, &b), AI_OK);
	cr_assert_str_eq(ai_buf_str(&b),
	                 "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList></BlockList>");
	ai_buf_release(&b);
}

Test(blobxml, block_list_escapes_markup)
{
	const char *ids[] = { "a&b<c>d\"e'f" };
	struct ai_buf b;

	ai_buf_init(&b, 1024);
	cr_assert_eq(ai_buf_addstr(&b, "X"), AI_OK);
	cr_assert_eq(ai_blobxml_block_list(ids, 1, &b), AI_OK, "appends");
	cr_assert_str_eq(ai_buf_str(&b),
	                 "X<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>"
	                 "<Latest>a&amp;b&lt;c&gt;d&quot;e&apos;f</Latest></BlockList>");
	ai_buf_release(&b);
}

Test(blobxml, block_list_failure_leaves_buffer_unchanged)
{
	const char *ctl[] = { "ok", "bad\n" };
	const char *empty[] = { "" };
	const char *null[] = { "ok", NULL };
	const char *many[64];
	struct ai_buf b;

	for (size_t i = 0; i < 64; i++)
		many[i] = "AAAAAAAAAAAAAAAAAAAAAA==";
	ai_buf_init(&b, 256);
	cr_assert_eq(ai_buf_addstr(&b, "keep"), AI_OK);
	cr_assert_eq(ai_blobxml_block_list(ctl, 2, &b), AI_ERR_BAD_INPUT);
	cr_assert_eq(ai_blobxml_block_list(empty, 1, &b), AI_ERR_BAD_INPUT);
	cr_assert_eq(ai_blobxml_block_list(null, 2, &b), AI_ERR_BAD_INPUT);
	cr_assert_eq(ai_blobxml_block_list(many, 64, &b), AI_ERR_TOO_BIG);
	cr_assert_str_eq(ai_buf_str(&b), "keep");
	cr_assert_eq(b.len, 4);
	ai_buf_release(&b);
}
