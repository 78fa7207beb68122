/* asset.h - the static files of the browser pages (conf/static/) under the
 * names nginx serves them by: each carries a hash of its content, so a
 * browser may keep it for a year and still never uses a stale one.  The
 * table is generated at build time (cgi/assets.cmake) from the files
 * themselves; the worker links to those names and the supervisor renders
 * nginx's map of them (render.h), so the two always agree. */
#ifndef CLIENTES_ASSET_H
#define CLIENTES_ASSET_H

enum asset {
    ASSET_CSS = 0, /* clientes.css: the stylesheet */
    ASSET_JS,      /* clientes.js: the optional script */
    ASSET_ICON,    /* favicon.ico */
    ASSET_COUNT
};

struct asset_desc {
    const char *file; /* the file in conf/static/: "clientes.css" */
    const char *url;  /* what pages link to: "/static/clientes.0123456789abcdef.css" */
};

/* Indexed by enum asset; static, read-only. */
extern const struct asset_desc asset_table[ASSET_COUNT];

/* asset_table[a].url */
#define asset_url(a) (asset_table[(a)].url)

#endif
