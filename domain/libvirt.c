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
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

#include "domain/domain-internal.h"
#include "nodedev/device.h"

/* libvirt is loaded when a domain question is first asked, not when
 * hostdevctl starts: its client library pulls in some fifty others (glib,
 * gnutls, ...), whose loading and relocation took 10+ ms of every command,
 * most of what a single-device verb costs.  Without libvirt installed,
 * everything but the domain questions still works. */
#define LIBVIRT_SONAME "libvirt.so.0"
#define LIBVIRT_SYMS(X) X(virConnectClose) X(virConnectGetURI) X(virConnectListAllDomains) X(virConnectOpen) X(virConnectOpenReadOnly) X(virDomainAttachDeviceFlags) X(virDomainDetachDeviceFlags) X(virDomainFree) X(virDomainGetName) X(virDomainGetXMLDesc) X(virDomainIsActive) X(virDomainLookupByName) X(virDomainLookupByUUIDString) X(virGetLastError) X(virNetworkFree) X(virNetworkGetXMLDesc) X(virNetworkLookupByName) X(virSetErrorFunc) \
        X(virEventRegisterDefaultImpl) X(virEventRunDefaultImpl) X(virEventAddTimeout) X(virEventUpdateTimeout) \
        X(virConnectDomainEventRegisterAny) X(virConnectDomainEventDeregisterAny) X(virConnectRegisterCloseCallback) \
        X(virConnectUnregisterCloseCallback) X(virConnectSetKeepAlive)
#define DECLARE_SYM(f) static typeof(f) *sym_##f;
LIBVIRT_SYMS(DECLARE_SYM)

/* Loading is once per process, for every thread and context alike. */
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_state;          /* 0 loaded, -EOPNOTSUPP failed */
static char load_error[512];    /* why it failed */

static void load_libvirt(void) {
        void *dl;

#ifdef HD_LIBVIRT_LINKED
        /* a sanitizer build (meson.build): linked, not loaded */
#define LINK_SYM(f) sym_##f = f;
        LIBVIRT_SYMS(LINK_SYM)
#undef LINK_SYM
        (void) dl;
        return;
#endif
        dl = dlopen(LIBVIRT_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!dl) {
                snprintf(load_error, sizeof(load_error), "cannot load libvirt's client library (%s): %s",
                         LIBVIRT_SONAME, dlerror());
                load_state = -EOPNOTSUPP;
                return;
        }
#define LOAD_SYM(f)                                                                                  \
        if (!(sym_##f = (typeof(f) *) dlsym(dl, #f))) {                                              \
                snprintf(load_error, sizeof(load_error), "%s lacks %s: %s", LIBVIRT_SONAME, #f,       \
                         dlerror());                                                                 \
                dlclose(dl);                                                                         \
                load_state = -EOPNOTSUPP;                                                            \
                return;                                                                              \
        }
        LIBVIRT_SYMS(LOAD_SYM)
#undef LOAD_SYM
}

/* 0 when loaded; -EOPNOTSUPP (logged) when the library or a symbol is
 * missing. */
static int libvirt_load(hd_ctx *ctx) {
        (void) pthread_once(&load_once, load_libvirt);
        if (load_state < 0)
                log_debug(ctx, "%s", load_error);
        return load_state;
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
        hd_nodedev_list_unref(u->own_list);
        free(u);
        return NULL;
}

static void usage_freep(hd_domain_usage **u) { hd_domain_usage_free(*u); }
static void list_unrefp(hd_nodedev_list **l) { hd_nodedev_list_unref(*l); }

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

/* Re-read the domains; VF pools are resolved against @list, else the
 * usage's list, else a list made for the purpose. */
int hd_domain_usage_reload_with(hd_domain_usage *u, hd_nodedev_list *list) {
        _cleanup_(list_unrefp) hd_nodedev_list *tmp = NULL;
        hd_nodedev_list *keep;
        int r;

        if (!list)
                list = u->list;
        if (!list) {
                r = hd_nodedev_list_new(u->ctx, &tmp);
                if (r < 0)
                        return r;
                list = tmp;
        }
        keep = u->list;
        u->list = list;
        r = hd_domain_usage_reload(u);
        u->list = keep;
        return r;
}

_public_ int hd_domain_usage_reload(hd_domain_usage *u) {
        virDomainPtr *doms = NULL;
        int n, r = 0;

        if (!u || !u->conn)
                return -EINVAL;
        if (!u->list)
                return hd_domain_usage_reload_with(u, NULL);
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

/* Whether libvirt is asked at all (hd_domain_usage_new, hd_domain_watch_new):
 * not for @uri "none", nor about a sysroot without a URI: 0, or -ENOENT
 * with the context's error saying why. */
static int libvirt_asked(hd_ctx *ctx, const char *uri) {
        if (uri && streq(uri, "none"))
                return hd_error(ctx, -ENOENT, "libvirt is not asked (--connect none)");
        if (!uri && !hd_ctx_is_live(ctx))
                return hd_error(ctx, -ENOENT, "libvirt is not asked about a sysroot without a URI");
        return 0;
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
        if ((r = libvirt_asked(ctx, uri)) < 0)
                return r;
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

/* The context's own usage (hd_domain_usage_install_lazy, and the unknown
 * answer of hd_domain_usage_install(ctx, NULL, why)): libvirt is asked
 * when the first answer is needed, once per context. */
struct lazy_usage {
        hd_ctx *ctx;            /* borrowed: the context owns this */
        char *uri;              /* NULL: libvirt's default URI */
        int state;              /* 0 not asked yet, 1 loaded, 2 not asked here, <0 unknown (-errno) */
        char *why;              /* states 2 and <0: why */
        hd_domain_usage *u;     /* state 1 */
};

static void lazy_free(void *p) {
        struct lazy_usage *l = p;
        if (!l)
                return;
        hd_domain_usage_free(l->u);
        free(l->uri);
        free(l->why);
        free(l);
}

/* 1 loaded, 0 not asked here, <0 unknown; the context's error says why
 * for the last two, on every call. */
static int lazy_load(struct lazy_usage *l, hd_nodedev_list *list, unsigned flags) {
        int r;

        if (l->state == 0) {
                r = hd_domain_usage_new(l->ctx, list, l->uri, flags, &l->u);
                if (r >= 0) {
                        /* the context owns the usage: it keeps no list (a
                         * list holds the context; the caller's may go) */
                        hd_nodedev_list_unref(TAKE_PTR(l->u->own_list));
                        l->u->list = NULL;
                        l->state = 1;
                } else {
                        l->state = r == -ENOENT ? 2 : r;
                        l->why = strdup(hd_ctx_get_error(l->ctx) ?: strerror(-r));
                        if (!l->why) {
                                l->state = 0;
                                return -ENOMEM;
                        }
                        if (r != -ENOENT)
                                log_warn(l->ctx, "%s; which domains use devices is unknown", l->why);
                }
        }
        if (l->state == 1)
                return 1;
        /* logged when it was decided: set again, quietly */
        free(l->ctx->error);
        l->ctx->error = strdup(l->why);
        return l->state == 2 ? 0 : l->state;
}

static int lazy_in_use(hd_ctx *ctx, const char *kind, const char *id, char **ret_reason, void *userdata) {
        struct lazy_usage *l = userdata;
        int r = lazy_load(l, NULL, 0);

        if (r == 0)
                return 0;
        if (r < 0) {
                if (!(*ret_reason = strdup(l->why ?: "libvirt cannot be asked")))
                        return -ENOMEM;
                return -EAGAIN;
        }
        return usage_in_use(ctx, kind, id, ret_reason, l->u);
}

static int lazy_new(hd_ctx *ctx, const char *uri, struct lazy_usage **ret) {
        struct lazy_usage *l = calloc(1, sizeof(*l));

        if (!l)
                return -ENOMEM;
        l->ctx = ctx;
        if (uri && !(l->uri = strdup(uri))) {
                free(l);
                return -ENOMEM;
        }
        *ret = l;
        return 0;
}

_public_ int hd_domain_usage_install_lazy(hd_ctx *ctx, const char *uri) {
        struct lazy_usage *l;
        int r;

        if (!ctx)
                return -EINVAL;
        r = lazy_new(ctx, uri, &l);
        if (r < 0)
                return r;
        hd_ctx_set_in_use_fn_owned(ctx, lazy_in_use, l, lazy_free);
        return 0;
}

_public_ int hd_domain_usage_get(hd_ctx *ctx, hd_nodedev_list *list, unsigned flags, hd_domain_usage **ret) {
        struct lazy_usage *l = hd_ctx_get_in_use_data(ctx, lazy_in_use);
        int r;

        if (!ctx || !ret || (list && hd_nodedev_list_get_ctx(list) != ctx))
                return -EINVAL;
        if (!l) {
                hd_error_clear(ctx);
                return hd_error(ctx, -ENXIO, "no libvirt connection is set up for this context");
        }
        r = lazy_load(l, list, flags);
        if (r > 0)
                *ret = l->u;
        return r;
}

const char *hd_domain_usage_uri_of(hd_ctx *ctx) {
        struct lazy_usage *l = hd_ctx_get_in_use_data(ctx, lazy_in_use);
        if (l && l->u)
                return l->u->uri;
        return l && l->uri ? l->uri : "the default URI";
}

_public_ void hd_domain_usage_install(hd_ctx *ctx, hd_domain_usage *u, const char *why) {
        struct lazy_usage *l = NULL;

        if (!ctx)
                return;
        if (u) {
                hd_ctx_set_in_use_fn(ctx, usage_in_use, u);
                return;
        }
        /* the unknown answer, the context's own */
        if (lazy_new(ctx, NULL, &l) < 0 || !(l->why = strdup(why ?: "libvirt cannot be asked"))) {
                lazy_free(l);
                hd_ctx_set_in_use_fn(ctx, NULL, NULL);
                return;
        }
        l->state = -EAGAIN;
        hd_ctx_set_in_use_fn_owned(ctx, lazy_in_use, l, lazy_free);
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

/* ---- hd_domain_watch: libvirt's domain events as a readable fd ----
 *
 * One thread of the library's runs libvirt's default event loop for every
 * watch of the process.  It alone touches a watch's connection once the
 * watch is listed (the first connect is the creator's, before): it
 * reconnects lost ones between iterations and tears down freed ones, so no
 * event callback can run for a watch after its teardown (libvirt
 * dispatches them inside virEventRunDefaultImpl, on this thread).  The
 * callbacks only write the watch's eventfd. */

enum { WATCH_LIFECYCLE, WATCH_ADDED, WATCH_REMOVED, WATCH_REMOVAL_FAILED, _WATCH_MAX };
#define WATCH_RETRY_FIRST_MS 1000
#define WATCH_RETRY_MAX_MS 60000

struct hd_domain_watch {
        hd_ctx *ctx;                    /* a reference */
        char *uri;                      /* NULL: libvirt's default */
        int efd;
        virConnectPtr conn;             /* NULL: not connected */
        int cb[_WATCH_MAX];             /* callback ids, -1 none */
        bool close_cb;
        atomic_bool lost;               /* the connection closed (libvirt's close callback) */
        unsigned backoff_ms;
        uint64_t next_try;              /* CLOCK_MONOTONIC ms of the next connect */
        bool listed, dying, gone;       /* under watch_lock */
        hd_domain_watch *next;
};

static pthread_once_t event_once = PTHREAD_ONCE_INIT;
static int event_state;                 /* 0 registered, <0 failed */
static int wake_timer = -1;             /* wakes the loop (0: now, N ms, -1 off) */
static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t watch_cond = PTHREAD_COND_INITIALIZER;
static hd_domain_watch *watches;        /* the listed ones, under watch_lock */
static bool loop_running, loop_joinable;
static pthread_t loop_thread;

static uint64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static void wake_cb(int timer, void *opaque _unused_) {
        /* the loop iteration returns; the thread reschedules */
        sym_virEventUpdateTimeout(timer, -1);
}

static void event_register(void) {
        if (sym_virEventRegisterDefaultImpl() < 0) {
                event_state = -EIO;
                return;
        }
        wake_timer = sym_virEventAddTimeout(-1, wake_cb, NULL, NULL);
        if (wake_timer < 0)
                event_state = -EIO;
}

static void wake_loop(void) {
        sym_virEventUpdateTimeout(wake_timer, 0);
}

static void watch_signal(hd_domain_watch *w) {
        uint64_t one = 1;
        /* a full counter (never in practice) is still readable */
        (void) !write(w->efd, &one, sizeof(one));
}

static int on_lifecycle(virConnectPtr conn _unused_, virDomainPtr dom _unused_, int event, int detail _unused_,
                        void *opaque) {
        /* what the in-use answer reads: active or not, and the definition */
        if (event == VIR_DOMAIN_EVENT_DEFINED || event == VIR_DOMAIN_EVENT_UNDEFINED ||
            event == VIR_DOMAIN_EVENT_STARTED || event == VIR_DOMAIN_EVENT_STOPPED ||
            event == VIR_DOMAIN_EVENT_CRASHED)
                watch_signal(opaque);
        return 0;
}

static void on_device(virConnectPtr conn _unused_, virDomainPtr dom _unused_, const char *alias _unused_,
                      void *opaque) {
        watch_signal(opaque);
}

static void on_close(virConnectPtr conn _unused_, int reason _unused_, void *opaque) {
        hd_domain_watch *w = opaque;
        atomic_store(&w->lost, true);
        wake_loop();
}

static const char *watch_where(const hd_domain_watch *w) {
        return w->uri ?: "default URI";
}

static void watch_disconnect(hd_domain_watch *w) {
        if (!w->conn)
                return;
        for (size_t i = 0; i < _WATCH_MAX; i++)
                if (w->cb[i] >= 0) {
                        (void) sym_virConnectDomainEventDeregisterAny(w->conn, w->cb[i]);
                        w->cb[i] = -1;
                }
        if (w->close_cb)
                (void) sym_virConnectUnregisterCloseCallback(w->conn, on_close);
        w->close_cb = false;
        sym_virConnectClose(w->conn);
        w->conn = NULL;
}

/* 0 connected and every callback registered; <0 (logged at debug) */
static int watch_connect(hd_domain_watch *w) {
        static const int ids[_WATCH_MAX] = {
                [WATCH_LIFECYCLE] = VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                [WATCH_ADDED] = VIR_DOMAIN_EVENT_ID_DEVICE_ADDED,
                [WATCH_REMOVED] = VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
                [WATCH_REMOVAL_FAILED] = VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED,
        };
        virConnectDomainEventGenericCallback cbs[_WATCH_MAX] = {
                [WATCH_LIFECYCLE] = VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle),
                [WATCH_ADDED] = VIR_DOMAIN_EVENT_CALLBACK(on_device),
                [WATCH_REMOVED] = VIR_DOMAIN_EVENT_CALLBACK(on_device),
                [WATCH_REMOVAL_FAILED] = VIR_DOMAIN_EVENT_CALLBACK(on_device),
        };

        atomic_store(&w->lost, false);
        /* the default URI only where a daemon listens: never one started
         * for the purpose (qemu:///session autostarts one) */
        if (!w->uri && !libvirt_daemon_present(w->ctx)) {
                log_debug(w->ctx, "libvirt (%s): no libvirt daemon runs here (no socket in /run/libvirt)",
                          watch_where(w));
                return -ENOENT;
        }
        w->conn = sym_virConnectOpenReadOnly(w->uri);
        if (!w->conn) {
                log_debug(w->ctx, "libvirt (%s) cannot be reached: %s", watch_where(w), last_error());
                return -ECONNREFUSED;
        }
        /* a hung daemon is a lost connection too (remote drivers only) */
        (void) sym_virConnectSetKeepAlive(w->conn, 5, 3);
        w->close_cb = sym_virConnectRegisterCloseCallback(w->conn, on_close, w, NULL) == 0;
        for (size_t i = 0; i < _WATCH_MAX; i++) {
                w->cb[i] = sym_virConnectDomainEventRegisterAny(w->conn, NULL, ids[i], cbs[i], w, NULL);
                /* an older daemon without the device events: lifecycle only */
                if (w->cb[i] < 0 && i == WATCH_LIFECYCLE) {
                        log_debug(w->ctx, "libvirt (%s): cannot follow domain events: %s", watch_where(w),
                                  last_error());
                        watch_disconnect(w);
                        return -EIO;
                }
        }
        return 0;
}

/* Between two iterations of the loop, under watch_lock: freed watches
 * torn down, lost ones reconnected when due; the wake timer set for the
 * next due one. */
static void watch_tend(void) {
        uint64_t now = now_ms(), next = UINT64_MAX;

        for (hd_domain_watch **p = &watches; *p;) {
                hd_domain_watch *w = *p;
                if (w->dying) {
                        watch_disconnect(w);
                        *p = w->next;
                        w->gone = true;
                        pthread_cond_broadcast(&watch_cond);
                        continue;
                }
                if (atomic_load(&w->lost) && w->conn) {
                        log_info(w->ctx, "libvirt (%s): the connection closed; connecting again", watch_where(w));
                        watch_disconnect(w);
                        w->backoff_ms = 0;
                        w->next_try = now;
                }
                if (!w->conn && now >= w->next_try) {
                        if (watch_connect(w) == 0) {
                                log_info(w->ctx, "libvirt (%s): following domain events again", watch_where(w));
                                w->backoff_ms = 0;
                                /* what changed meanwhile is unknown */
                                watch_signal(w);
                        } else {
                                w->backoff_ms = w->backoff_ms ? w->backoff_ms * 2 : WATCH_RETRY_FIRST_MS;
                                if (w->backoff_ms > WATCH_RETRY_MAX_MS)
                                        w->backoff_ms = WATCH_RETRY_MAX_MS;
                                w->next_try = now_ms() + w->backoff_ms;
                        }
                }
                if (!w->conn && w->next_try < next)
                        next = w->next_try;
                p = &w->next;
        }
        if (next == UINT64_MAX)
                sym_virEventUpdateTimeout(wake_timer, -1);
        else {
                now = now_ms();
                sym_virEventUpdateTimeout(wake_timer, next > now ? (int) (next - now) : 0);
        }
}

static void *loop_main(void *arg _unused_) {
        pthread_mutex_lock(&watch_lock);
        for (;;) {
                watch_tend();
                if (!watches)
                        break;
                pthread_mutex_unlock(&watch_lock);
                (void) sym_virEventRunDefaultImpl();
                pthread_mutex_lock(&watch_lock);
        }
        loop_running = false;
        pthread_cond_broadcast(&watch_cond);
        pthread_mutex_unlock(&watch_lock);
        return NULL;
}

_public_ hd_domain_watch *hd_domain_watch_free(hd_domain_watch *w) {
        if (!w)
                return NULL;
        pthread_mutex_lock(&watch_lock);
        if (w->listed) {
                w->dying = true;
                wake_loop();
                while (!w->gone)
                        pthread_cond_wait(&watch_cond, &watch_lock);
        }
        /* the last one: the thread ends (a later watch starts another) */
        while (!watches && loop_running)
                pthread_cond_wait(&watch_cond, &watch_lock);
        if (!watches && loop_joinable) {
                (void) pthread_join(loop_thread, NULL);
                loop_joinable = false;
        }
        pthread_mutex_unlock(&watch_lock);
        watch_disconnect(w);    /* never listed: the creator's */
        if (w->efd >= 0)
                close(w->efd);
        hd_ctx_unref(w->ctx);
        free(w->uri);
        free(w);
        return NULL;
}

static void watch_freep(hd_domain_watch **w) { hd_domain_watch_free(*w); }

_public_ int hd_domain_watch_new(hd_ctx *ctx, const char *uri, hd_domain_watch **ret) {
        _cleanup_(watch_freep) hd_domain_watch *w = NULL;
        const char *where = uri ?: "default URI";
        sigset_t all, saved;
        int r;

        if (!ctx || !ret)
                return -EINVAL;
        hd_error_clear(ctx);
        if ((r = libvirt_asked(ctx, uri)) < 0)
                return r;
        if ((r = libvirt_load(ctx)) < 0)
                return hd_error(ctx, r, "libvirt (%s) cannot be followed: libvirt's client library (" LIBVIRT_SONAME
                                ") is not installed", where);
        (void) pthread_once(&event_once, event_register);
        if (event_state < 0)
                return hd_error(ctx, event_state, "libvirt (%s) cannot be followed: libvirt's event loop: %s", where,
                                last_error());
        sym_virSetErrorFunc(NULL, quiet_error);

        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->efd = -1;
        for (size_t i = 0; i < _WATCH_MAX; i++)
                w->cb[i] = -1;
        w->ctx = hd_ctx_ref(ctx);
        if (uri && !(w->uri = strdup(uri)))
                return -ENOMEM;
        w->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->efd < 0)
                return negative_errno();

        pthread_mutex_lock(&watch_lock);
        if (!loop_running) {
                /* the one before has left its loop: it only returns now */
                if (loop_joinable)
                        (void) pthread_join(loop_thread, NULL);
                loop_joinable = false;
                /* no signal of the application's lands on this thread */
                sigfillset(&all);
                pthread_sigmask(SIG_SETMASK, &all, &saved);
                r = -pthread_create(&loop_thread, NULL, loop_main, NULL);
                pthread_sigmask(SIG_SETMASK, &saved, NULL);
                if (r < 0) {
                        pthread_mutex_unlock(&watch_lock);
                        return r;
                }
                loop_running = loop_joinable = true;
        }
        /* the first connect here: a caller that acts right after sees its
         * events; a failure is retried by the thread */
        if (watch_connect(w) < 0) {
                w->backoff_ms = WATCH_RETRY_FIRST_MS;
                w->next_try = now_ms() + w->backoff_ms;
                log_info(ctx, "libvirt (%s) cannot be followed yet; trying again in the background", where);
        }
        w->next = watches;
        watches = w;
        w->listed = true;
        wake_loop();
        pthread_mutex_unlock(&watch_lock);
        *ret = TAKE_PTR(w);
        return 0;
}

_public_ int hd_domain_watch_get_fd(hd_domain_watch *w) {
        return w ? w->efd : -EINVAL;
}

_public_ int hd_domain_watch_ack(hd_domain_watch *w) {
        uint64_t n;

        if (!w)
                return -EINVAL;
        if (read(w->efd, &n, sizeof(n)) != (ssize_t) sizeof(n))
                return errno == EAGAIN ? 0 : -errno;
        return n > INT_MAX ? INT_MAX : (int) n;
}
