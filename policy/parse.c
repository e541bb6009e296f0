/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Format dispatch, file reading with the size limit, and policy directories. */
#include "parse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool parse_has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	return n > s && strcmp(name + n - s, suffix) == 0;
}

int parse_format_from_name(const char *name, enum parse_format *ret)
{
	if (parse_has_suffix(name, ".yaml") || parse_has_suffix(name, ".yml")) {
		*ret = PARSE_YAML;
		return 0;
	}
	if (parse_has_suffix(name, ".json")) {
		*ret = PARSE_JSON;
		return 0;
	}
	return -EINVAL;
}

struct loc parse_loc_at_offset(const char *buf, size_t len, size_t offset, const char *file)
{
	struct loc loc = {file, 1, 1};
	size_t line_start = 0;

	if (offset > len)
		offset = len;
	for (size_t i = 0; i < offset; i++) {
		if (buf[i] == '\n') {
			loc.line++;
			line_start = i + 1;
		}
	}
	loc.col = (int)(offset - line_start) + 1;
	return loc;
}

int parse_too_deep(struct diag_list *diags, struct loc loc)
{
	diag_error(diags, loc, NULL, "nesting is deeper than %d levels", NODE_MAX_DEPTH);
	return -EINVAL;
}

int parse_check_duplicates(const struct node *map, struct diag_list *diags, bool *failed)
{
	int r = node_check_duplicate_keys(map, diags);

	if (r == -EINVAL) {
		*failed = true;
		return 0;
	}
	return r;
}

static struct loc parse_whole_file(const char *file)
{
	return (struct loc){file, 0, 0};
}

static int parse_too_large(const char *file, struct diag_list *diags)
{
	diag_error(diags, parse_whole_file(file), NULL, "file is larger than 16 MiB");
	return -EFBIG;
}

int parse_buffer(const char *buf, size_t len, const char *filename, enum parse_format fmt,
		 struct diag_list *diags, struct node **ret_root)
{
	const char *file = diag_intern_file(diags, filename);

	if (!file)
		return -ENOMEM;
	if (len > NODE_MAX_FILE_BYTES)
		return parse_too_large(file, diags);
	/* Editors on Windows start UTF-8 files with a byte order mark. YAML allows it and RFC
	 * 8259 lets a JSON parser ignore it; libyaml, told the encoding, would count it as a
	 * column of the first line, and jansson refuses it. Columns count from after it, as an
	 * editor shows them. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		buf += 3;
		len -= 3;
	}
	if (fmt == PARSE_JSON)
		return parse_json(buf, len, file, diags, ret_root);
	return parse_yaml(buf, len, file, diags, ret_root);
}

static int parse_cannot_read(const char *file, int err, struct diag_list *diags)
{
	diag_error(diags, parse_whole_file(file), NULL, "cannot read: %s", strerror(err));
	return -err;
}

/* Reads at most one byte past the limit, so a file that grows after fstat is still caught. */
static int parse_read_fd(int fd, size_t size_hint, char **ret_buf, size_t *ret_len)
{
	size_t cap = (size_hint < NODE_MAX_FILE_BYTES ? size_hint : NODE_MAX_FILE_BYTES) + 1;
	size_t len = 0;
	char *buf = malloc(cap), *grown;
	ssize_t n;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap > NODE_MAX_FILE_BYTES)
				break;
			cap = cap * 2 > NODE_MAX_FILE_BYTES + 1 ? NODE_MAX_FILE_BYTES + 1 : cap * 2;
			grown = realloc(buf, cap);
			if (!grown) {
				r = -ENOMEM;
				goto out;
			}
			buf = grown;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret_buf = buf;
	*ret_len = len;
	buf = NULL;
out:
	free(buf);
	return r;
}

/* What a path is when it is not a regular file, for the message that says why it is not read. */
static const char *parse_type_name(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	return "an unknown kind of file";
}

/*
 * Opens PATH for reading only if it is a regular file once symlinks are followed. The type is
 * read from an O_PATH descriptor, which opens nothing: a FIFO cannot block us and a device
 * never sees an open(). The file is then reopened through that descriptor, so what is read
 * is the inode that was checked. Returns 0 and *ret_fd and *ret_st, -EMEDIUMTYPE with *ret_why
 * for anything but a regular file, or -errno.
 */
static int parse_open_regular(const char *path, int *ret_fd, struct stat *ret_st,
			      const char **ret_why)
{
	char proc[64];
	struct stat st;
	int pfd, fd, r = 0;

	pfd = open(path, O_PATH | O_CLOEXEC);
	if (pfd < 0) {
		if (errno == ENOENT && lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
			*ret_why = "a dangling symlink";
			return -EMEDIUMTYPE;
		}
		return -errno;
	}
	if (fstat(pfd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		*ret_why = parse_type_name(st.st_mode);
		r = -EMEDIUMTYPE;
		goto out;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	fd = open(proc, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	/* Without /proc, the path again; fstat below still refuses whatever it now names. */
	if (fd < 0 && errno == ENOENT)
		fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = -errno;
		if (r == 0) {
			*ret_why = parse_type_name(st.st_mode);
			r = -EMEDIUMTYPE;
		}
		close(fd);
		goto out;
	}
	*ret_fd = fd;
	*ret_st = st;
out:
	close(pfd);
	return r;
}

static int parse_file_at(const char *path, bool listed, struct diag_list *diags,
			 struct node **ret_root)
{
	enum parse_format fmt = PARSE_YAML;
	const char *file = diag_intern_file(diags, path), *why = NULL;
	char *buf = NULL;
	size_t len = 0;
	struct stat st = {0};
	int fd = -1, r;

	if (!file)
		return -ENOMEM;
	/* The spec lets the extension pick the parser; guessing would hide a wrong path. */
	if (parse_format_from_name(path, &fmt) < 0) {
		diag_error(diags, parse_whole_file(file), NULL,
			   "unknown file type: a policy file ends in .yaml, .yml or .json");
		return -EINVAL;
	}
	r = parse_open_regular(path, &fd, &st, &why);
	if (r == -EMEDIUMTYPE && listed) {
		diag_warning(diags, parse_whole_file(file), NULL,
			     "not a regular file (%s); skipped", why);
		return PARSE_SKIPPED;
	}
	if (r == -EMEDIUMTYPE) {
		diag_error(diags, parse_whole_file(file), NULL,
			   "not a regular file (%s); only regular files are read", why);
		return -EINVAL;
	}
	if (r < 0)
		return parse_cannot_read(file, -r, diags);
	if ((unsigned long long)st.st_size > NODE_MAX_FILE_BYTES) {
		r = parse_too_large(file, diags);
		goto out;
	}
	r = parse_read_fd(fd, (size_t)st.st_size, &buf, &len);
	if (r == -ENOMEM)
		goto out;
	if (r < 0) {
		r = parse_cannot_read(file, -r, diags);
		goto out;
	}
	r = parse_buffer(buf, len, file, fmt, diags, ret_root);
out:
	free(buf);
	close(fd);
	return r;
}

int parse_file(const char *path, struct diag_list *diags, struct node **ret_root)
{
	return parse_file_at(path, false, diags, ret_root);
}

int parse_listed_file(const char *path, struct diag_list *diags, struct node **ret_root)
{
	return parse_file_at(path, true, diags, ret_root);
}

/* Like the shell's "*.yaml": dotfiles (editor and backup droppings) are not policies. */
static bool parse_is_policy_name(const char *name)
{
	enum parse_format fmt;

	return name[0] != '.' && parse_format_from_name(name, &fmt) == 0;
}

static int parse_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void parse_free_names(char **names, size_t n)
{
	if (!names)
		return;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Paths of the entries of DIR named like policy files, sorted by name. Their type is checked
 * when each is opened, not here: a check apart from the open would race with it. */
static int parse_list_dir(const char *dir, char ***ret_paths, size_t *ret_n)
{
	const char *sep = parse_has_suffix(dir, "/") ? "" : "/";
	char **paths = NULL, **grown, *path = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int r = 0;

	d = opendir(dir);
	if (!d)
		return -errno;
	while ((errno = 0, de = readdir(d))) {
		if (!parse_is_policy_name(de->d_name))
			continue;
		if (asprintf(&path, "%s%s%s", dir, sep, de->d_name) < 0) {
			path = NULL;
			r = -ENOMEM;
			goto out;
		}
		grown = realloc(paths, (n + 1) * sizeof(*paths));
		if (!grown) {
			r = -ENOMEM;
			goto out;
		}
		paths = grown;
		paths[n++] = path;
		path = NULL;
	}
	if (errno) {
		r = -errno;
		goto out;
	}
	if (n > 1)
		qsort(paths, n, sizeof(*paths), parse_name_cmp);
	*ret_paths = paths;
	*ret_n = n;
	paths = NULL;
out:
	free(path);
	parse_free_names(paths, n);
	closedir(d);
	return r;
}

static void parse_free_roots(struct node **roots, size_t n)
{
	if (!roots)
		return;
	for (size_t i = 0; i < n; i++)
		node_free(roots[i]);
	free(roots);
}

static int parse_dir(const char *dir, struct diag_list *diags, struct node ***ret_roots,
		     size_t *ret_n)
{
	const char *file = diag_intern_file(diags, dir);
	struct node **roots = NULL;
	char **paths = NULL;
	size_t npaths = 0, nroots = 0;
	int r, first_error = 0;

	if (!file)
		return -ENOMEM;
	r = parse_list_dir(dir, &paths, &npaths);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return parse_cannot_read(file, -r, diags);
	roots = calloc(npaths + 1, sizeof(*roots));
	if (!roots) {
		r = -ENOMEM;
		goto out;
	}
	/* Every file, even after an error: the user fixes them all in one round. */
	for (size_t i = 0; i < npaths; i++) {
		r = parse_listed_file(paths[i], diags, &roots[nroots]);
		if (r == -ENOMEM)
			goto out;
		if (r < 0 && !first_error)
			first_error = r;
		if (r == 0)
			nroots++;
	}
	r = first_error;
	if (r < 0)
		goto out;
	if (nroots == 0) {
		diag_error(diags, parse_whole_file(file), NULL,
			   "no policy files (*.yaml, *.yml, *.json) in directory");
		r = -ENOENT;
		goto out;
	}
	*ret_roots = roots;
	*ret_n = nroots;
	roots = NULL;
out:
	parse_free_roots(roots, nroots);
	parse_free_names(paths, npaths);
	return r;
}

int parse_path(const char *path, struct diag_list *diags, struct node ***ret_roots, size_t *ret_n)
{
	struct node **roots;
	struct node *root = NULL;
	struct stat st;
	const char *file;
	int r;

	if (stat(path, &st) < 0) {
		file = diag_intern_file(diags, path);
		return file ? parse_cannot_read(file, errno, diags) : -ENOMEM;
	}
	if (S_ISDIR(st.st_mode))
		return parse_dir(path, diags, ret_roots, ret_n);
	r = parse_file(path, diags, &root);
	if (r < 0)
		return r;
	roots = malloc(sizeof(*roots));
	if (!roots) {
		node_free(root);
		return -ENOMEM;
	}
	roots[0] = root;
	*ret_roots = roots;
	*ret_n = 1;
	return 0;
}
