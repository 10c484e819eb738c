#include "services/cognito/xmlsec_api.h"

#include <dlfcn.h>

#include <string>

namespace stratus::services::cognito {

namespace {

// The OpenSSL engine library; libxmlsec1 and libxml2 come with it as its dependencies, and
// dlsym on its handle searches them too.
constexpr const char* kLibrary = "libxmlsec1-openssl.so.1";

template <class Fn>
bool Bind(void* handle, const char* name, Fn& out, std::string& missing) {
  out = reinterpret_cast<Fn>(dlsym(handle, name));
  if (!out && missing.empty()) missing = name;
  return out != nullptr;
}

Result<XmlSecApi> Load() {
  void* handle = dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    return Error("invalid_request", std::string("SAML: xmlsec is not available: ") +
                                        (why ? why : kLibrary) +
                                        " (install the libxmlsec1-openssl package)");
  }
  XmlSecApi api;
  std::string missing;
  Bind(handle, "xmlInitParser", api.InitParser, missing);
  Bind(handle, "xmlReadMemory", api.ReadMemory, missing);
  Bind(handle, "xmlFreeDoc", api.FreeDoc, missing);
  Bind(handle, "xmlDocGetRootElement", api.DocGetRootElement, missing);
  Bind(handle, "xmlNodeGetContent", api.NodeGetContent, missing);
  Bind(handle, "xmlGetProp", api.GetProp, missing);
  Bind(handle, "xmlHasProp", api.HasProp, missing);
  Bind(handle, "xmlStrEqual", api.StrEqual, missing);
  Bind(handle, "xmlNodeListGetString", api.NodeListGetString, missing);
  Bind(handle, "xmlGetID", api.GetID, missing);
  Bind(handle, "xmlAddID", api.AddID, missing);
  Bind(handle, "xmlFree", api.Free, missing);
  Bind(handle, "xmlSecInit", api.Init, missing);
  Bind(handle, "xmlSecOpenSSLAppInit", api.CryptoAppInit, missing);
  Bind(handle, "xmlSecOpenSSLInit", api.CryptoInit, missing);
  Bind(handle, "xmlSecOpenSSLAppKeyLoadMemory", api.CryptoAppKeyLoadMemory, missing);
  Bind(handle, "xmlSecDSigCtxCreate", api.DSigCtxCreate, missing);
  Bind(handle, "xmlSecDSigCtxVerify", api.DSigCtxVerify, missing);
  Bind(handle, "xmlSecDSigCtxDestroy", api.DSigCtxDestroy, missing);
  if (!missing.empty() || !*api.Free) {
    return Error("invalid_request", "SAML: xmlsec is not available: " + std::string(kLibrary) +
                                        " lacks " + (missing.empty() ? "xmlFree" : missing));
  }
  // Initialisation order as xmlsec documents it: the parser, xmlsec, then its crypto engine.
  api.InitParser();
  if (api.Init() < 0) return Error("invalid_request", "SAML: xmlsec is not available: xmlSecInit failed");
  if (api.CryptoAppInit(nullptr) < 0) {
    return Error("invalid_request", "SAML: xmlsec is not available: xmlSecOpenSSLAppInit failed");
  }
  if (api.CryptoInit() < 0) {
    return Error("invalid_request", "SAML: xmlsec is not available: xmlSecOpenSSLInit failed");
  }
  return api;
}

}  // namespace

Result<const XmlSecApi*> XmlSec() {
  // Loaded once per process; the libraries' own globals are theirs, not ours.
  static const Result<XmlSecApi> loaded = Load();
  if (!loaded.ok()) return loaded.error();
  return &loaded.value();
}

}  // namespace stratus::services::cognito
