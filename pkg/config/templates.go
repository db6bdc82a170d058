package config

import _ "embed"

// The annotated templates of clbuild --template and clbuildapp
// --template (DRCM's --check-config writes one too): every element with
// its default and its rule. TestTemplates holds them to the parsers and
// the man pages.
var (
	//go:embed templates/clconf.xml
	ClusterTemplate []byte
	//go:embed templates/appconf.xml
	AppTemplate []byte
)
