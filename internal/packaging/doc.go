// Package packaging holds the tests of what an administrator installs:
// make install and make uninstall into a scratch DESTDIR, and the Debian
// package of scripts/mkdeb installed in namespace-testbed nodes, where the
// installed binaries form a cluster and run an application.
package packaging
