// SAML 2.0 for federation: AuthnRequests over the HTTP-Redirect binding and signed Responses
// verified with xmlsec1 (OpenSSL engine, loaded on first use: xmlsec_api.h). Defends against signature wrapping: exactly one
// Assertion, one signature reference, and the signed element must be that Assertion or the
// Response that contains it.
#include <zlib.h>

#include <ctime>
#include <mutex>

#include <spdlog/spdlog.h>

#include "core/crypto.h"
#include "core/strings.h"
#include "core/time_format.h"
#include "services/cognito/federation.h"
#include "services/cognito/xmlsec_api.h"

namespace stratus::services::cognito {

namespace {

constexpr int64_t kClockSkewSeconds = 300;
constexpr const char* kSamlP = "urn:oasis:names:tc:SAML:2.0:protocol";
constexpr const char* kSaml = "urn:oasis:names:tc:SAML:2.0:assertion";
constexpr const char* kMd = "urn:oasis:names:tc:SAML:2.0:metadata";
constexpr const char* kDs = "http://www.w3.org/2000/09/xmldsig#";

Error Invalid(std::string m) { return Error("invalid_request", "SAML: " + std::move(m)); }

struct DocFree {
  decltype(&::xmlFreeDoc) free_doc;
  void operator()(xmlDoc* d) const { free_doc(d); }
};
using Doc = std::unique_ptr<xmlDoc, DocFree>;

Doc ParseXml(const XmlSecApi& x, const std::string& xml) {
  // No network, no entity expansion, no DTD loading (XXE).
  return Doc(x.ReadMemory(xml.data(), static_cast<int>(xml.size()), "saml.xml", nullptr,
                          XML_PARSE_NONET | XML_PARSE_NOBLANKS),
             DocFree{x.FreeDoc});
}

std::string Text(const XmlSecApi& x, xmlNode* n) {
  if (!n) return {};
  xmlChar* c = x.NodeGetContent(n);
  std::string s = c ? reinterpret_cast<const char*>(c) : "";
  (*x.Free)(c);
  return std::string(Trim(s));
}

std::string Attr(const XmlSecApi& x, xmlNode* n, const char* name) {
  xmlChar* v = x.GetProp(n, reinterpret_cast<const xmlChar*>(name));
  std::string s = v ? reinterpret_cast<const char*>(v) : "";
  (*x.Free)(v);
  return s;
}

bool Is(const XmlSecApi& x, xmlNode* n, const char* name, const char* ns) {
  return n && n->type == XML_ELEMENT_NODE && x.StrEqual(n->name, reinterpret_cast<const xmlChar*>(name)) &&
         n->ns && x.StrEqual(n->ns->href, reinterpret_cast<const xmlChar*>(ns));
}

// Every element named `name` in `ns` under `root` (depth-first).
void FindAll(const XmlSecApi& x, xmlNode* root, const char* name, const char* ns,
             std::vector<xmlNode*>& out) {
  for (xmlNode* n = root; n; n = n->next) {
    if (Is(x, n, name, ns)) out.push_back(n);
    if (n->children) FindAll(x, n->children, name, ns, out);
  }
}

xmlNode* First(const XmlSecApi& x, xmlNode* root, const char* name, const char* ns) {
  std::vector<xmlNode*> all;
  if (root) FindAll(x, root->children, name, ns, all);
  return all.empty() ? nullptr : all[0];
}

std::optional<int64_t> ParseTime(const std::string& s) {
  std::tm tm{};
  if (s.size() < 19 || !strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return std::nullopt;
  return static_cast<int64_t>(timegm(&tm));
}

// The IdP's signing certificate (DER) and SSO URL from its metadata.
struct IdpMetadata {
  std::string cert_der;
  std::string sso_url;
  std::string entity_id;
};

Result<IdpMetadata> ParseMetadata(const std::string& xml) {
  STRATUS_ASSIGN_OR_RETURN(const XmlSecApi* api, XmlSec());
  const XmlSecApi& x = *api;
  Doc doc = ParseXml(x, xml);
  if (!doc) return Invalid("metadata is not XML");
  xmlNode* root = x.DocGetRootElement(doc.get());
  IdpMetadata md;
  md.entity_id = Attr(x, root, "entityID");
  std::vector<xmlNode*> keys;
  FindAll(x, root, "KeyDescriptor", kMd, keys);
  for (xmlNode* k : keys) {
    std::string use = Attr(x, k, "use");
    if (!use.empty() && use != "signing") continue;
    std::string b64 = Text(x, First(x, k, "X509Certificate", kDs));
    std::string clean;
    for (char c : b64) {
      if (!std::isspace(static_cast<unsigned char>(c))) clean.push_back(c);
    }
    if (auto der = Base64Decode(clean)) {
      md.cert_der = *der;
      break;
    }
  }
  std::vector<xmlNode*> sso;
  FindAll(x, root, "SingleSignOnService", kMd, sso);
  for (xmlNode* s : sso) {
    if (Attr(x, s, "Binding") == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect") md.sso_url = Attr(x, s, "Location");
  }
  if (md.sso_url.empty() && !sso.empty()) md.sso_url = Attr(x, sso[0], "Location");
  if (md.cert_der.empty()) return Invalid("metadata has no signing certificate");
  return md;
}

std::string RawDeflate(const std::string& in) {
  z_stream zs{};
  deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace

Result<std::string> Federation::SamlRedirectUrl(const Json& provider, const std::string& acs_url,
                                                const std::string& sp_entity_id, const std::string& relay_state) {
  STRATUS_ASSIGN_OR_RETURN(std::string metadata, Metadata(provider));
  STRATUS_ASSIGN_OR_RETURN(IdpMetadata md, ParseMetadata(metadata));
  if (md.sso_url.empty()) return Invalid("metadata has no SingleSignOnService");
  std::string request =
      "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" "
      "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_" + HexEncode(RandomBytes(16)) +
      "\" Version=\"2.0\" IssueInstant=\"" + FormatIso8601(clock_.NowMillis() / 1000) +
      "\" Destination=\"" + XmlEscape(md.sso_url) + "\" AssertionConsumerServiceURL=\"" + XmlEscape(acs_url) +
      "\" ProtocolBinding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST\"><saml:Issuer>" +
      XmlEscape(sp_entity_id) + "</saml:Issuer></samlp:AuthnRequest>";
  std::string url = md.sso_url + (md.sso_url.find('?') == std::string::npos ? "?" : "&");
  url += "SAMLRequest=" + UrlEncode(Base64Encode(RawDeflate(request))) + "&RelayState=" + UrlEncode(relay_state);
  return url;
}

Result<ExternalIdentity> VerifySamlResponse(const std::string& xml, const std::string& metadata_xml,
                                            const std::string& audience, int64_t now) {
  STRATUS_ASSIGN_OR_RETURN(const XmlSecApi* api, XmlSec());
  const XmlSecApi& x = *api;
  STRATUS_ASSIGN_OR_RETURN(IdpMetadata md, ParseMetadata(metadata_xml));
  Doc doc = ParseXml(x, xml);
  if (!doc) return Invalid("the response is not XML");
  xmlNode* root = x.DocGetRootElement(doc.get());
  if (!Is(x, root, "Response", kSamlP)) return Invalid("the document is not a samlp:Response");
  std::vector<xmlNode*> assertions;
  FindAll(x, root->children, "Assertion", kSaml, assertions);
  if (assertions.size() != 1) return Invalid("expected exactly one Assertion");
  xmlNode* assertion = assertions[0];
  if (assertion->parent != root) return Invalid("the Assertion must be a child of the Response");
  // Register the ID attributes the signature references point at.
  for (xmlNode* n : {root, assertion}) {
    xmlAttr* id = x.HasProp(n, reinterpret_cast<const xmlChar*>("ID"));
    if (id) {
      xmlChar* v = x.NodeListGetString(doc.get(), id->children, 1);
      if (v && !x.GetID(doc.get(), v)) x.AddID(nullptr, doc.get(), v, id);
      (*x.Free)(v);
    }
  }
  std::vector<xmlNode*> signatures;
  FindAll(x, root, "Signature", kDs, signatures);
  if (signatures.size() != 1) return Invalid("expected exactly one signature");
  xmlNode* sig = signatures[0];
  xmlNode* signed_element = sig->parent;
  if (signed_element != root && signed_element != assertion) return Invalid("the signature signs neither the Response nor its Assertion");
  std::vector<xmlNode*> refs;
  FindAll(x, sig->children, "Reference", kDs, refs);
  if (refs.size() != 1 || Attr(x, refs[0], "URI") != "#" + Attr(x, signed_element, "ID") ||
      Attr(x, signed_element, "ID").empty()) {
    return Invalid("the signature reference does not name the signed element");
  }
  xmlSecDSigCtxPtr ctx = x.DSigCtxCreate(nullptr);
  if (!ctx) return Invalid("xmlsec context");
  ctx->signKey = x.CryptoAppKeyLoadMemory(reinterpret_cast<const xmlSecByte*>(md.cert_der.data()),
                                          static_cast<xmlSecSize>(md.cert_der.size()),
                                          xmlSecKeyDataFormatCertDer, nullptr, nullptr, nullptr);
  bool ok = ctx->signKey && x.DSigCtxVerify(ctx, sig) >= 0 && ctx->status == xmlSecDSigStatusSucceeded;
  x.DSigCtxDestroy(ctx);
  if (!ok) return Invalid("the signature does not verify with the IdP's certificate");

  xmlNode* status = First(x, root, "StatusCode", kSamlP);
  if (status && Attr(x, status, "Value") != "urn:oasis:names:tc:SAML:2.0:status:Success") {
    return Invalid("the IdP answered " + Attr(x, status, "Value"));
  }
  xmlNode* conditions = First(x, assertion, "Conditions", kSaml);
  if (conditions) {
    auto nb = ParseTime(Attr(x, conditions, "NotBefore"));
    auto na = ParseTime(Attr(x, conditions, "NotOnOrAfter"));
    if (nb && *nb > now + kClockSkewSeconds) return Invalid("the assertion is not yet valid");
    if (na && *na + kClockSkewSeconds <= now) return Invalid("the assertion has expired");
    std::vector<xmlNode*> auds;
    FindAll(x, conditions->children, "Audience", kSaml, auds);
    bool aud_ok = auds.empty();
    for (xmlNode* a : auds) aud_ok = aud_ok || Text(x, a) == audience;
    if (!aud_ok) return Invalid("the assertion is for another audience");
  }
  std::string subject = Text(x, First(x, assertion, "NameID", kSaml));
  if (subject.empty()) return Invalid("the assertion has no NameID");
  ExternalIdentity who{subject, Json::object()};
  std::vector<xmlNode*> attrs;
  FindAll(x, assertion->children, "Attribute", kSaml, attrs);
  for (xmlNode* a : attrs) {
    xmlNode* v = First(x, a, "AttributeValue", kSaml);
    if (v) who.claims[Attr(x, a, "Name")] = Text(x, v);
  }
  who.claims["NameID"] = subject;
  return who;
}

}  // namespace stratus::services::cognito
