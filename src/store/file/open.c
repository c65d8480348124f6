/* file/open.c: opens a local-directory location (file:///abs/dir); its
 * container and account operations; the backend's table of operations. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "util/crypto.h"
#include "store/file/file.h"

/* ---- container and account ---- */

static ai_result file_create_container(struct ai_store *s)
{
	struct file_store *fs = (struct file_store *)s;
	char path[PATH_MAX];
	ai_result r;

	ai_store_count(s, AI_REQ_OTHER, 0, 0);
	snprintf(path, sizeof path, "%s/", fs->root);
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(path, 0777) != 0 && errno != EEXIST) {
			r = ai_file_container_fail(fs, "cannot create", errno);
			return r;
		}
		*p = '/';
	}
	return ai_file_state_ready(fs);
}

static ai_result file_account_info(struct ai_store *s, char sku[64], char kind[64])
{
	ai_store_count(s, AI_REQ_OTHER, 0, 0);
	snprintf(sku, 64, "local");
	snprintf(kind, 64, "directory");
	return AI_OK;
}

static ai_result file_service_stats(struct ai_store *s, char status[16], ai_time *last_sync)
{
	snprintf(status, 16, "unavailable");
	*last_sync = AI_TIME_MIN;
	ai_store_set_error("location '%.300s': no secondary for a local directory", s->described);
	return AI_ERR_CONFIG;
}

/* ---- open and free ---- */

static void file_free(struct ai_store *s)
{
	struct file_store *fs = (struct file_store *)s;

	if (!fs)
		return;
	free(fs->root);
	free(fs->base.described);
	free(fs);
}

static const struct ai_store_ops file_ops = {
	.name = "file",
	.list = ai_file_list,
	.read = ai_file_read,
	.put = ai_file_put,
	.put_block = ai_file_put_block,
	.put_block_list = ai_file_put_block_list,
	.append = ai_file_append,
	.lease = ai_file_lease,
	.props = ai_file_props,
	.set_metadata = ai_file_set_metadata,
	.del = ai_file_delete,
	.create_container = file_create_container,
	.account_info = file_account_info,
	.service_stats = file_service_stats,
	.cleanup = ai_file_cleanup,
	.free = file_free,
};

ai_result ai_store_file_open(struct ai_store **out, const char *root,
                             const struct ai_store_config *cfg)
{
	struct file_store *fs = NULL;
	size_t n = root ? strlen(root) : 0;
	ai_result r = AI_OK;

	*out = NULL;
	if (n == 0 || root[0] != '/') {
		ai_store_set_error("location 'file://%.300s': not an absolute path (file:///dir)",
		                   root ? root : "");
		return AI_ERR_CONFIG;
	}
	while (n > 1 && root[n - 1] == '/')
		n--;
	if (n == 1)
		n = 0; /* the file system root: names become "/name" */
	if (n + sizeof "/" STATE_DIR "/blocks/" + 2 * AI_SHA256_LEN + 2 * BLOCK_ID_MAX >=
	    PATH_MAX ||
	    n + NAME_LEN_MAX + 2 >= PATH_MAX) {
		ai_store_set_error("location 'file://%.300s': path too long", root);
		return AI_ERR_CONFIG;
	}
	fs = calloc(1, sizeof *fs);
	if (!fs || !(fs->root = strndup(root, n)) ||
	    !(fs->base.described = malloc(n + sizeof "file:///"))) {
		r = AI_ERR_NOMEM;
		ai_store_set_error("location 'file://%.300s': out of memory", root);
		goto out;
	}
	snprintf(fs->base.described, n + sizeof "file:///", "file://%s", n ? fs->root : "/");
	fs->base.ops = &file_ops;
	fs->base.remote = 0;
	fs->base.now = cfg->now;
	*out = &fs->base;
	fs = NULL;
out:
	file_free(fs ? &fs->base : NULL);
	return r;
}
