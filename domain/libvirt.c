/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which libvirt domain uses which host device, through libvirt's client API:
 * every domain's XML (live XML of running domains, persistent XML of the
 * defined ones) is parsed with libxml2 for
 *   <hostdev type='pci'|'usb'|'scsi'|'mdev'>,
 *   <interface type='hostdev'> (an SR-IOV VF), and
 *   <interface type='network'> on a network with <forward mode='hostdev'>
 *   (a VF pool: <pf dev='IF'/> → every VF of that PF, or <address .../>).
 * The result answers the context's in-use question (hd_in_use_fn), so that
 * vfio/, sriov/ and mdev/ refuse to take a device from a running guest
 * without depending on this module.  Attach and detach are thin wrappers of
 * virDomainAttachDeviceFlags / virDomainDetachDeviceFlags.
 */
#include <ctype.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <strings.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "nodedev/device.h"

/* libvirt is loaded when a domain question is first asked, not when
 * hostdevctl starts: its client library pulls in some fifty others (glib,
 * gnutls, ...), whose loading and relocation took 10+ ms of every command,
 * most of what a single-device verb costs.  Without libvirt installed,
 * everything but the domain questions still works. */
#define LIBVIRT_SONAME "libvirt.so.0"
#define LIBVIRT_SYMS(X) X(virConnectClose) X(virConnectGetURI) X(virConnectListAllDomains) X(virConnectOpen) X(virConnectOpenReadOnly) X(virDomainAttachDeviceFlags) X(virDomainDetachDeviceFlags) X(virDomainFree) X(virDomainGetName) X(virDomainGetXMLDesc) X(virDomainIsActive) X(virDomainLookupByName) X(virDomainLookupByUUIDString) X(virGetLastError) X(virNetworkFree) X(virNetworkGetXMLDesc) X(virNetworkLookupByName) X(virSetErrorFunc)
#define DECLARE_SYM(f) static typeof(f) *sym_##f;
LIBVIRT_SYMS(DECLARE_SYM)

/* 0 when loaded; -EOPNOTSUPP (logged) when the library or a symbol is
 * missing.  Tried once per process. */
static int libvirt_load(hd_ctx *ctx) {
        static int state; /* 0: not tried, 1: loaded, < 0: failed */
        void *dl;

        if (state != 0)
                return state > 0 ? 0 : state;
#ifdef HD_LIBVIRT_LINKED
        /* a sanitizer build (meson.build): linked, not loaded */
#define LINK_SYM(f) sym_##f = f;
        LIBVIRT_SYMS(LINK_SYM)
#undef LINK_SYM
        (void) dl;
        (void) ctx;
        state = 1;
        return 0;
#endif
        dl = dlopen(LIBVIRT_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!dl) {
                log_debug(ctx, "cannot load libvirt's client library (%s): %s", LIBVIRT_SONAME, dlerror());
                return state = -EOPNOTSUPP;
        }
#define LOAD_SYM(f)                                                                                  \
        if (!(sym_##f = (typeof(f) *) dlsym(dl, #f))) {                                              \
                log_debug(ctx, "%s lacks %s: %s", LIBVIRT_SONAME, #f, dlerror());                      \
                dlclose(dl);                                                                         \
                return state = -EOPNOTSUPP;                                                          \
        }
        LIBVIRT_SYMS(LOAD_SYM)
#undef LOAD_SYM
        state = 1;
        return 0;
}

enum use_kind { USE_PCI, USE_USB, USE_SCSI, USE_MDEV };

struct use {
        hd_domain_use pub;
        enum use_kind kind;
        char key[64];           /* PCI address, "H:B:T:L" (scsi_hostH), mdev UUID */
        long usb_vendor, usb_product, usb_bus, usb_dev; /* -1 when absent */
        char *domain, *how, *xml;
};

struct hd_domain_usage {
        hd_nodedev_list *list;
        hd_nodedev_list *own_list; /* hd_domain_usage_new() without a list */
        hd_ctx *ctx;
        virConnectPtr conn;
        char *uri;
        struct use *uses;
        size_t n;
        char *unknown_why;      /* hd_domain_usage_install(NULL) */
};

/* libvirt's message of the last failed call on this thread */
static const char *last_error(void) {
        virErrorPtr e = sym_virGetLastError();
        return e && e->message ? e->message : "unknown libvirt error";
}

/* libvirt prints errors to stderr by default; we report them ourselves */
static void quiet_error(void *userdata _unused_, virErrorPtr e _unused_) {}

static void clear_uses(hd_domain_usage *u) {
        for (size_t i = 0; i < u->n; i++) {
                free(u->uses[i].domain);
                free(u->uses[i].how);
                free(u->uses[i].xml);
        }
        free(u->uses);
        u->uses = NULL;
        u->n = 0;
}

_public_ hd_domain_usage *hd_domain_usage_free(hd_domain_usage *u) {
        if (!u)
                return NULL;
        clear_uses(u);
        if (u->conn)
                sym_virConnectClose(u->conn);
        free(u->uri);
        free(u->unknown_why);
        hd_nodedev_list_unref(u->own_list);
        free(u);
        return NULL;
}

static void usage_freep(hd_domain_usage **u) { hd_domain_usage_free(*u); }

static void xml_docp(xmlDocPtr *d) { if (*d) xmlFreeDoc(*d); }
static void xpath_ctxp(xmlXPathContextPtr *c) { if (*c) xmlXPathFreeContext(*c); }
static void xpath_objp(xmlXPathObjectPtr *o) { if (*o) xmlXPathFreeObject(*o); }
static void xml_charp(xmlChar **s) { if (*s) xmlFree(*s); }

/* an attribute of the first node matching @expr relative to @node */
static char *xattr(xmlXPathContextPtr xc, xmlNodePtr node, const char *expr, const char *attr) {
        _cleanup_(xpath_objp) xmlXPathObjectPtr o = NULL;
        xmlChar *v;
        char *s;

        xc->node = node;
        o = xmlXPathEvalExpression((const xmlChar *) expr, xc);
        if (!o || !o->nodesetval || o->nodesetval->nodeNr < 1)
                return NULL;
        v = xmlGetProp(o->nodesetval->nodeTab[0], (const xmlChar *) attr);
        if (!v)
                return NULL;
        s = strdup((const char *) v);
        xmlFree(v);
        return s;
}

static long num(const char *s) {
        long long v;
        if (!s)
                return -1;
        if (hd_safe_atoll(s, 0, &v) < 0 || v < 0)
                return -1;
        return (long) v;
}

/* <address domain= bus= slot= function=> under @node → "0000:01:00.0" */
static int pci_key(xmlXPathContextPtr xc, xmlNodePtr node, const char *expr, char *key, size_t size) {
        _cleanup_free_ char *dom = xattr(xc, node, expr, "domain"), *bus = xattr(xc, node, expr, "bus"),
                            *slot = xattr(xc, node, expr, "slot"), *fn = xattr(xc, node, expr, "function");
        long d = dom ? num(dom) : 0, b = num(bus), s = num(slot), f = num(fn);

        if (d < 0 || b < 0 || s < 0 || f < 0)
                return -EINVAL;
        snprintf(key, size, "%04lx:%02lx:%02lx.%lx", d, b, s, f);
        return 0;
}

static struct use *new_use(hd_domain_usage *u, enum use_kind kind, const char *domain, bool running,
                           const char *how, xmlNodePtr node) {
        struct use *x;
        void *p = realloc(u->uses, (u->n + 1) * sizeof(*u->uses));
        if (!p)
                return NULL;
        u->uses = p;
        x = &u->uses[u->n];
        *x = (struct use) { .kind = kind, .usb_vendor = -1, .usb_product = -1, .usb_bus = -1, .usb_dev = -1 };
        x->domain = strdup(domain);
        x->how = strdup(how);
        if (node) {
                xmlBufferPtr buf = xmlBufferCreate();
                if (buf && xmlNodeDump(buf, node->doc, node, 0, 0) >= 0)
                        x->xml = strdup((const char *) xmlBufferContent(buf));
                if (buf)
                        xmlBufferFree(buf);
        }
        if (!x->domain || !x->how || (node && !x->xml)) {
                free(x->domain);
                free(x->how);
                free(x->xml);
                return NULL;
        }
        x->pub = (hd_domain_use) { .domain = x->domain, .running = running, .uri = u->uri, .how = x->how,
                                   .xml = x->xml };
        u->n++;
        return x;
}

/* every VF of the PF whose network interface is @ifname */
static int pool_pf_vfs(hd_domain_usage *u, const char *ifname, char ***ret, size_t *ret_n) {
        hd_device *net = NULL, *pf;
        _cleanup_strv_free_ char **vfs = NULL;
        size_t n = 0;

        if (hd_nodedev_list_lookup(u->list, ifname, &net) < 0 || hd_device_get_cap_type(net) != HD_CAP_NET ||
            !hd_device_get_parent(net) || hd_device_get_cap_type(hd_device_get_parent(net)) != HD_CAP_PCI) {
                log_debug(u->ctx, "VF pool PF '%s' is not a network interface of a PCI device here", ifname);
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        pf = hd_device_get_parent(net);
        for (size_t i = 0; i < hd_nodedev_list_count(u->list); i++) {
                hd_device *d = hd_nodedev_list_get(u->list, i);
                _cleanup_free_ char *target = NULL;
                char path[PATH_MAX];
                if (hd_device_get_cap_type(d) != HD_CAP_PCI ||
                    hd_device_attr_path(d, "physfn", path, sizeof(path)) < 0 ||
                    hd_sysfs_readlink(u->ctx, path, &target) < 0 ||
                    !streq(hd_path_basename(target), hd_device_get_sysname(pf)))
                        continue;
                if (hd_strv_push(&vfs, &n, strdup(hd_device_get_sysname(d))) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(vfs);
        *ret_n = n;
        return 0;
}

/* <interface type='network'> on network @name: a VF pool? */
static int add_network_uses(hd_domain_usage *u, const char *domain, bool running, const char *name,
                            xmlNodePtr iface) {
        virNetworkPtr net = sym_virNetworkLookupByName(u->conn, name);
        _cleanup_free_ char *xml = NULL, *mode = NULL;
        _cleanup_(xml_docp) xmlDocPtr doc = NULL;
        _cleanup_(xpath_ctxp) xmlXPathContextPtr xc = NULL;
        _cleanup_(xpath_objp) xmlXPathObjectPtr pfs = NULL, addrs = NULL;
        char how[PATH_MAX];

        if (!net) {
                log_debug(u->ctx, "domain %s: network '%s' not found", domain, name);
                return 0;
        }
        xml = sym_virNetworkGetXMLDesc(net, 0);
        sym_virNetworkFree(net);
        if (!xml)
                return 0;
        doc = xmlReadMemory(xml, (int) strlen(xml), "network.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING);
        if (!doc || !(xc = xmlXPathNewContext(doc)))
                return 0;
        mode = xattr(xc, xmlDocGetRootElement(doc), "/network/forward", "mode");
        if (!mode || !streq(mode, "hostdev"))
                return 0;
        snprintf(how, sizeof(how), "network '%s' (VF pool)", name);
        pfs = xmlXPathEvalExpression((const xmlChar *) "/network/forward/pf", xc);
        for (int i = 0; pfs && pfs->nodesetval && i < pfs->nodesetval->nodeNr; i++) {
                _cleanup_(xml_charp) xmlChar *dev = xmlGetProp(pfs->nodesetval->nodeTab[i], (const xmlChar *) "dev");
                _cleanup_strv_free_ char **vfs = NULL;
                size_t n = 0;
                if (!dev || pool_pf_vfs(u, (const char *) dev, &vfs, &n) < 0)
                        continue;
                for (size_t k = 0; k < n; k++) {
                        struct use *x = new_use(u, USE_PCI, domain, running, how, iface);
                        if (!x)
                                return -ENOMEM;
                        snprintf(x->key, sizeof(x->key), "%s", vfs[k]);
                }
        }
        addrs = xmlXPathEvalExpression((const xmlChar *) "/network/forward/address[@type='pci']", xc);
        for (int i = 0; addrs && addrs->nodesetval && i < addrs->nodesetval->nodeNr; i++) {
                char key[64];
                struct use *x;
                if (pci_key(xc, addrs->nodesetval->nodeTab[i], ".", key, sizeof(key)) < 0)
                        continue;
                x = new_use(u, USE_PCI, domain, running, how, iface);
                if (!x)
                        return -ENOMEM;
                snprintf(x->key, sizeof(x->key), "%s", key);
        }
        return 0;
}

static int parse_domain(hd_domain_usage *u, const char *domain, bool running, const char *xml) {
        _cleanup_(xml_docp) xmlDocPtr doc = NULL;
        _cleanup_(xpath_ctxp) xmlXPathContextPtr xc = NULL;
        _cleanup_(xpath_objp) xmlXPathObjectPtr hs = NULL, ifs = NULL;

        doc = xmlReadMemory(xml, (int) strlen(xml), "domain.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING);
        if (!doc || !(xc = xmlXPathNewContext(doc))) {
                log_warn(u->ctx, "domain %s: unreadable XML", domain);
                return 0;
        }
        hs = xmlXPathEvalExpression((const xmlChar *) "/domain/devices/hostdev[@mode='subsystem' or not(@mode)]", xc);
        for (int i = 0; hs && hs->nodesetval && i < hs->nodesetval->nodeNr; i++) {
                xmlNodePtr h = hs->nodesetval->nodeTab[i];
                _cleanup_(xml_charp) xmlChar *type = xmlGetProp(h, (const xmlChar *) "type");
                struct use *x = NULL;
                char key[64];

                if (!type)
                        continue;
                if (streq((const char *) type, "pci")) {
                        if (pci_key(xc, h, "source/address", key, sizeof(key)) < 0)
                                continue;
                        x = new_use(u, USE_PCI, domain, running, "hostdev", h);
                } else if (streq((const char *) type, "mdev")) {
                        _cleanup_free_ char *uuid = xattr(xc, h, "source/address", "uuid");
                        if (!uuid)
                                continue;
                        snprintf(key, sizeof(key), "%s", uuid);
                        for (char *p = key; *p; p++)
                                *p = (char) tolower((unsigned char) *p);
                        x = new_use(u, USE_MDEV, domain, running, "hostdev", h);
                } else if (streq((const char *) type, "scsi")) {
                        _cleanup_free_ char *adapter = xattr(xc, h, "source/adapter", "name"),
                                            *bus = xattr(xc, h, "source/address", "bus"),
                                            *target = xattr(xc, h, "source/address", "target"),
                                            *unit = xattr(xc, h, "source/address", "unit");
                        unsigned host;
                        if (!adapter || sscanf(adapter, "scsi_host%u", &host) != 1 || num(bus) < 0 ||
                            num(target) < 0 || num(unit) < 0)
                                continue; /* iSCSI and the like: not a host device */
                        snprintf(key, sizeof(key), "%u:%ld:%ld:%ld", host, num(bus), num(target), num(unit));
                        x = new_use(u, USE_SCSI, domain, running, "hostdev", h);
                } else if (streq((const char *) type, "usb")) {
                        _cleanup_free_ char *vendor = xattr(xc, h, "source/vendor", "id"),
                                            *product = xattr(xc, h, "source/product", "id"),
                                            *bus = xattr(xc, h, "source/address", "bus"),
                                            *dev = xattr(xc, h, "source/address", "device");
                        key[0] = 0;
                        x = new_use(u, USE_USB, domain, running, "hostdev", h);
                        if (x) {
                                x->usb_vendor = num(vendor);
                                x->usb_product = num(product);
                                x->usb_bus = num(bus);
                                x->usb_dev = num(dev);
                        }
                } else
                        continue;
                if (!x)
                        return -ENOMEM;
                snprintf(x->key, sizeof(x->key), "%s", key);
        }
        ifs = xmlXPathEvalExpression((const xmlChar *) "/domain/devices/interface", xc);
        for (int i = 0; ifs && ifs->nodesetval && i < ifs->nodesetval->nodeNr; i++) {
                xmlNodePtr f = ifs->nodesetval->nodeTab[i];
                _cleanup_(xml_charp) xmlChar *type = xmlGetProp(f, (const xmlChar *) "type");
                char key[64];
                int r;

                if (type && streq((const char *) type, "hostdev")) {
                        struct use *x;
                        if (pci_key(xc, f, "source/address", key, sizeof(key)) < 0)
                                continue;
                        x = new_use(u, USE_PCI, domain, running, "interface type='hostdev'", f);
                        if (!x)
                                return -ENOMEM;
                        snprintf(x->key, sizeof(x->key), "%s", key);
                } else if (type && streq((const char *) type, "network")) {
                        _cleanup_free_ char *name = xattr(xc, f, "source", "network");
                        if (!name)
                                continue;
                        r = add_network_uses(u, domain, running, name, f);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

_public_ int hd_domain_usage_reload(hd_domain_usage *u) {
        virDomainPtr *doms = NULL;
        int n, r = 0;

        if (!u || !u->conn)
                return -EINVAL;
        clear_uses(u);
        n = sym_virConnectListAllDomains(u->conn, &doms, 0);
        if (n < 0) {
                log_err(u->ctx, "cannot list the domains of %s: %s", u->uri, last_error());
                return -EIO;
        }
        for (int i = 0; i < n; i++) {
                int active = sym_virDomainIsActive(doms[i]);
                const char *name = sym_virDomainGetName(doms[i]);
                char *xml = sym_virDomainGetXMLDesc(doms[i], active == 1 ? 0 : VIR_DOMAIN_XML_INACTIVE);
                if (xml && name && r >= 0)
                        r = parse_domain(u, name, active == 1, xml);
                free(xml);
                sym_virDomainFree(doms[i]);
        }
        free(doms);
        return r;
}

/* A libvirt daemon's socket on this host: the system daemon (libvirtd or
 * the modular virtqemud), or for a user other than root a session daemon
 * (qemu:///session, that user's default URI). */
static bool libvirt_daemon_present(hd_ctx *ctx) {
        static const char *const socks[] = { "libvirt-sock", "libvirt-sock-ro", "virtqemud-sock", "virtqemud-sock-ro" };
        const char *rt = getenv("XDG_RUNTIME_DIR");

        for (size_t i = 0; i < ELEMENTSOF(socks); i++) {
                char path[PATH_MAX];
                snprintf(path, sizeof(path), "run/libvirt/%s", socks[i]);
                if (hd_sysfs_exists(ctx, path))
                        return true;
                if (!isempty(rt) && getuid() != 0 &&
                    snprintf(path, sizeof(path), "%s/libvirt/%s", rt, socks[i]) < (int) sizeof(path) &&
                    hd_sysfs_exists(ctx, path))
                        return true;
        }
        return false;
}

_public_ int hd_domain_usage_new(hd_ctx *ctx, hd_nodedev_list *list, const char *uri, unsigned flags,
                                 hd_domain_usage **ret) {
        _cleanup_(usage_freep) hd_domain_usage *u = NULL;
        const char *where = uri ? uri : "default URI";
        char *name;
        int r;

        if (!ctx || !ret || (list && hd_nodedev_list_get_ctx(list) != ctx))
                return -EINVAL;
        hd_error_clear(ctx);
        /* no domain can use a device here: libvirt is not asked */
        if (uri && streq(uri, "none"))
                return hd_error(ctx, -ENOENT, "libvirt is not asked (--connect none)");
        if (!uri && !hd_ctx_is_live(ctx))
                return hd_error(ctx, -ENOENT, "libvirt is not asked about a sysroot without a URI");
        if (!uri && !libvirt_daemon_present(ctx))
                return hd_error(ctx, -ENOENT, "no libvirt daemon runs here (no socket in /run/libvirt)");

        if ((r = libvirt_load(ctx)) < 0)
                return hd_error(ctx, r, "libvirt (%s) cannot be asked: libvirt's client library (" LIBVIRT_SONAME
                                ") is not installed", where);
        sym_virSetErrorFunc(NULL, quiet_error);
        u = calloc(1, sizeof(*u));
        if (!u)
                return -ENOMEM;
        u->ctx = ctx;
        u->conn = (flags & HD_DOMAIN_USAGE_RW) ? sym_virConnectOpen(uri) : sym_virConnectOpenReadOnly(uri);
        if (!u->conn)
                return hd_error(ctx, -ECONNREFUSED, "libvirt (%s) cannot be asked: %s", where, last_error());
        name = sym_virConnectGetURI(u->conn);
        u->uri = name ? name : strdup(uri ? uri : "default");
        if (!u->uri)
                return -ENOMEM;
        /* VF pools name PFs: resolved against every device of the host */
        if (!list) {
                r = hd_nodedev_list_new(ctx, &u->own_list);
                if (r < 0)
                        return hd_error(ctx, r, "libvirt (%s) cannot be asked: %s", where, strerror(-r));
                list = u->own_list;
        }
        u->list = list;
        r = hd_domain_usage_reload(u);
        if (r < 0)
                return hd_error(ctx, r, "libvirt (%s) cannot be asked: %s", where, strerror(-r));
        *ret = TAKE_PTR(u);
        return 0;
}

_public_ const char *hd_domain_usage_get_uri(hd_domain_usage *u) {
        return u ? u->uri : NULL;
}

static bool usb_matches(const struct use *x, hd_device *d) {
        const char *v = hd_device_get_property(d, "ID_VENDOR_ID"), *p = hd_device_get_property(d, "ID_MODEL_ID");
        const char *b = hd_device_get_property(d, "BUSNUM"), *n = hd_device_get_property(d, "DEVNUM");
        long long vv = -1, pp = -1, bb = -1, nn = -1;

        if (!v || hd_safe_atoll(v, 16, &vv) < 0)
                (void) hd_device_read_attr_long(d, "idVendor", 16, &vv);
        if (!p || hd_safe_atoll(p, 16, &pp) < 0)
                (void) hd_device_read_attr_long(d, "idProduct", 16, &pp);
        if (!b || hd_safe_atoll(b, 10, &bb) < 0)
                (void) hd_device_read_attr_long(d, "busnum", 10, &bb);
        if (!n || hd_safe_atoll(n, 10, &nn) < 0)
                (void) hd_device_read_attr_long(d, "devnum", 10, &nn);
        /* libvirt: vendor/product when given, and the address when given */
        if (x->usb_vendor < 0 && x->usb_bus < 0)
                return false;
        if (x->usb_vendor >= 0 && (x->usb_vendor != vv || x->usb_product != pp))
                return false;
        if (x->usb_bus >= 0 && (x->usb_bus != bb || x->usb_dev != nn))
                return false;
        return true;
}

_public_ int hd_domain_usage_find(hd_domain_usage *u, hd_device *d, const hd_domain_use ***ret, size_t *ret_n) {
        _cleanup_free_ const hd_domain_use **out = NULL;
        size_t k = 0;

        if (!u || !d || !ret || !ret_n)
                return -EINVAL;
        /* the network interface of a VF is used with its VF */
        if (hd_device_get_cap_type(d) == HD_CAP_NET && hd_device_get_parent(d) &&
            hd_device_get_cap_type(hd_device_get_parent(d)) == HD_CAP_PCI)
                d = hd_device_get_parent(d);
        out = calloc(u->n + 1, sizeof(*out));
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < u->n; i++) {
                const struct use *x = &u->uses[i];
                bool m = false;
                if (!hd_device_get_sysname(d))
                        break;
                switch (x->kind) {
                case USE_PCI:
                        m = hd_device_get_cap_type(d) == HD_CAP_PCI && streq(x->key, hd_device_get_sysname(d));
                        break;
                case USE_MDEV:
                        m = hd_device_get_cap_type(d) == HD_CAP_MDEV &&
                            strcasecmp(x->key, hd_device_get_sysname(d)) == 0;
                        break;
                case USE_SCSI:
                        m = hd_device_get_cap_type(d) == HD_CAP_SCSI && streq(x->key, hd_device_get_sysname(d));
                        break;
                case USE_USB: m = hd_device_get_cap_type(d) == HD_CAP_USB_DEV && usb_matches(x, d); break;
                }
                if (!m)
                        continue;
                /* one line per domain and way of use */
                bool dup = false;
                for (size_t j = 0; j < k; j++)
                        if (streq(out[j]->domain, x->pub.domain) && streq(out[j]->how, x->pub.how))
                                dup = true;
                if (!dup)
                        out[k++] = &x->pub;
        }
        *ret = TAKE_PTR(out);
        *ret_n = k;
        return 0;
}

/* hd_in_use_fn over the parsed domains */
static int usage_in_use(hd_ctx *ctx, const char *kind, const char *id, char **ret_reason, void *userdata) {
        hd_domain_usage *u = userdata;
        const struct use *defined = NULL;

        if (u->unknown_why) {
                if (!(*ret_reason = strdup(u->unknown_why)))
                        return -ENOMEM;
                return -EAGAIN;
        }
        for (size_t i = 0; i < u->n; i++) {
                const struct use *x = &u->uses[i];
                bool m = (streq(kind, "pci") && x->kind == USE_PCI && streq(x->key, id)) ||
                         (streq(kind, "mdev") && x->kind == USE_MDEV && strcasecmp(x->key, id) == 0);
                if (!m)
                        continue;
                if (x->pub.running) {
                        if (hd_asprintf(ret_reason, "%s is used by running domain '%s' (%s, on %s); detach it from "
                                        "the domain first (--force does not override this)", id, x->pub.domain,
                                        x->pub.how, u->uri) < 0)
                                return -ENOMEM;
                        return 1;
                }
                defined = x;
        }
        if (defined)
                log_warn(ctx, "%s is in the definition of domain '%s' (not running, on %s); it will fail to start "
                         "without it", id, defined->pub.domain, u->uri);
        return 0;
}

_public_ int hd_domain_usage_check(hd_domain_usage *u, hd_ctx *ctx, const char *kind, const char *id,
                                   char **ret_reason) {
        if (!u || !kind || !id || !ret_reason)
                return -EINVAL;
        return usage_in_use(ctx, kind, id, ret_reason, u);
}

_public_ void hd_domain_usage_install(hd_ctx *ctx, hd_domain_usage *u, const char *why) {
        static hd_domain_usage unknown;

        if (!ctx)
                return;
        if (!u) {
                free(unknown.unknown_why);
                unknown.unknown_why = strdup(why ? why : "libvirt cannot be asked");
                u = &unknown;
        }
        hd_ctx_set_in_use_fn(ctx, usage_in_use, u);
}

static int attach_detach(hd_domain_usage *u, const char *domain, const char *xml, bool live, bool config,
                         bool attach) {
        unsigned flags = (live ? VIR_DOMAIN_AFFECT_LIVE : 0) | (config ? VIR_DOMAIN_AFFECT_CONFIG : 0);
        virDomainPtr dom;
        int r;

        if (!u || !domain || !xml)
                return -EINVAL;
        hd_error_clear(u->ctx);
        dom = sym_virDomainLookupByName(u->conn, domain);
        if (!dom)
                dom = sym_virDomainLookupByUUIDString(u->conn, domain);
        if (!dom)
                return hd_error(u->ctx, -ENOENT, "no domain '%s' on %s", domain, u->uri);
        r = attach ? sym_virDomainAttachDeviceFlags(dom, xml, flags) : sym_virDomainDetachDeviceFlags(dom, xml, flags);
        if (r < 0)
                hd_error(u->ctx, -EIO, "%s", last_error());
        sym_virDomainFree(dom);
        return r < 0 ? -EIO : 0;
}

_public_ int hd_domain_attach_xml(hd_domain_usage *u, const char *domain, const char *xml, bool live, bool config) {
        return attach_detach(u, domain, xml, live, config, true);
}

_public_ int hd_domain_detach_xml(hd_domain_usage *u, const char *domain, const char *xml, bool live, bool config) {
        return attach_detach(u, domain, xml, live, config, false);
}

_public_ int hd_vfio_group_holder(hd_ctx *ctx, unsigned group, int *ret_pid, char **ret_comm) {
        char node[64];
        int pid = 0, r;

        if (!ctx)
                return -EINVAL;
        snprintf(node, sizeof(node), "/dev/vfio/%u", group);
        r = hd_proc_scan_fds(ctx, node, NULL, &pid);
        if (r <= 0)
                return r;
        if (ret_pid)
                *ret_pid = pid;
        if (ret_comm && hd_sysfs_read_strf(ctx, ret_comm, "proc/%d/comm", pid) < 0)
                *ret_comm = NULL;
        return 1;
}

_public_ int hd_domain_xml_pci_hostdevs(const char *xml, bool unmanaged_only, char ***ret, size_t *ret_n) {
        _cleanup_(xml_docp) xmlDocPtr doc = NULL;
        _cleanup_(xpath_ctxp) xmlXPathContextPtr xc = NULL;
        _cleanup_(xpath_objp) xmlXPathObjectPtr o = NULL;
        _cleanup_strv_free_ char **out = NULL;
        size_t n = 0;

        if (!xml || !ret || !ret_n)
                return -EINVAL;
        doc = xmlReadMemory(xml, (int) strlen(xml), "domain.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
                            XML_PARSE_NOWARNING);
        if (!doc || !(xc = xmlXPathNewContext(doc)))
                return -EBADMSG;
        o = xmlXPathEvalExpression((const xmlChar *) "/domain/devices/hostdev[@type='pci' and (@mode='subsystem' or "
                                   "not(@mode))] | /domain/devices/interface[@type='hostdev']", xc);
        for (int i = 0; o && o->nodesetval && i < o->nodesetval->nodeNr; i++) {
                xmlNodePtr h = o->nodesetval->nodeTab[i];
                _cleanup_(xml_charp) xmlChar *managed = xmlGetProp(h, (const xmlChar *) "managed");
                char key[64];

                /* libvirt's default is managed='no' */
                if (unmanaged_only && managed && streq((const char *) managed, "yes"))
                        continue;
                if (pci_key(xc, h, "source/address", key, sizeof(key)) < 0)
                        continue;
                if (hd_strv_push(&out, &n, strdup(key)) < 0)
                        return -ENOMEM;
        }
        if (!out && !(out = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *ret = TAKE_PTR(out);
        *ret_n = n;
        return 0;
}

struct holders {
        hd_ctx *ctx;
        hd_vfio_holder *v;
        size_t n;
};

static int add_holder(void *userdata, int pid, const char *target) {
        struct holders *h = userdata;
        _cleanup_free_ char *comm = NULL;
        hd_vfio_holder *p;
        unsigned group;
        int r;

        if (!startswith(target, "/dev/vfio/") || hd_safe_atou(target + strlen("/dev/vfio/"), 10, &group) < 0)
                return 0;
        for (size_t k = 0; k < h->n; k++)
                if (h->v[k].group == group)
                        return 0;
        p = realloc(h->v, (h->n + 1) * sizeof(*p));
        if (!p)
                return -ENOMEM;
        h->v = p;
        /* gone, or not ours to read: no comm */
        r = hd_sysfs_read_strf(h->ctx, &comm, "proc/%d/comm", pid);
        if (r == -ENOMEM)
                return r;
        p[h->n++] = (hd_vfio_holder) { .group = group, .pid = pid, .comm = TAKE_PTR(comm) };
        return 0;
}

_public_ int hd_vfio_list_holders(hd_ctx *ctx, hd_vfio_holder **ret, size_t *ret_n) {
        struct holders h = { .ctx = ctx };
        int r;

        if (!ctx || !ret || !ret_n)
                return -EINVAL;
        r = hd_proc_foreach_fd(ctx, add_holder, &h);
        if (r < 0) {
                hd_vfio_holders_free(h.v, h.n);
                return r;
        }
        *ret = h.v;
        *ret_n = h.n;
        return 0;
}

_public_ void hd_vfio_holders_free(hd_vfio_holder *v, size_t n) {
        for (size_t i = 0; v && i < n; i++)
                free(v[i].comm);
        free(v);
}
