#pragma once
// xmlsec1 (OpenSSL engine) and libxml2 for SAML, loaded with dlopen on the first SAML use.
//
// Why not link them: a linked libxmlsec1-openssl brings libxmlsec1, libxml2, libxslt, ICU and
// liblzma into every server process, relocated at every start (~1.3 MB resident, ICU alone
// 0.6 MB), for federation that most servers never configure. Loaded here, they cost nothing
// until a pool's SAML provider is first used.
//
// The headers still give every prototype, so each entry is typed from the declaration it
// stands for (decltype) and a signature mismatch fails to compile.
//
// Thread-safe: XmlSec() loads and initialises the libraries once; the table is read-only
// afterwards and lives as long as the process (the libraries are never unloaded).
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/valid.h>
#include <xmlsec/crypto.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>

#include "core/result.h"

namespace stratus::services::cognito {

// The functions SAML uses, named after the libxml2/xmlsec function each one is.
struct XmlSecApi {
  // libxml2
  decltype(&::xmlInitParser) InitParser = nullptr;
  decltype(&::xmlReadMemory) ReadMemory = nullptr;
  decltype(&::xmlFreeDoc) FreeDoc = nullptr;
  decltype(&::xmlDocGetRootElement) DocGetRootElement = nullptr;
  decltype(&::xmlNodeGetContent) NodeGetContent = nullptr;
  decltype(&::xmlGetProp) GetProp = nullptr;
  decltype(&::xmlHasProp) HasProp = nullptr;
  decltype(&::xmlStrEqual) StrEqual = nullptr;
  decltype(&::xmlNodeListGetString) NodeListGetString = nullptr;
  decltype(&::xmlGetID) GetID = nullptr;
  decltype(&::xmlAddID) AddID = nullptr;
  xmlFreeFunc* Free = nullptr;  // libxml2's `xmlFree` variable: free what libxml2 returns with (*Free)(p)
  // xmlsec1 and its OpenSSL engine (xmlSecCrypto* in the headers are macros for these)
  decltype(&::xmlSecInit) Init = nullptr;
  decltype(&::xmlSecOpenSSLAppInit) CryptoAppInit = nullptr;
  decltype(&::xmlSecOpenSSLInit) CryptoInit = nullptr;
  decltype(&::xmlSecOpenSSLAppKeyLoadMemory) CryptoAppKeyLoadMemory = nullptr;
  decltype(&::xmlSecDSigCtxCreate) DSigCtxCreate = nullptr;
  decltype(&::xmlSecDSigCtxVerify) DSigCtxVerify = nullptr;
  decltype(&::xmlSecDSigCtxDestroy) DSigCtxDestroy = nullptr;
};

// The loaded and initialised API, or an error ("xmlsec is not available: ...") naming the
// library or symbol that could not be loaded, or the initialisation step that failed. The
// outcome of the first call is kept: later calls return the same.
Result<const XmlSecApi*> XmlSec();

}  // namespace stratus::services::cognito
