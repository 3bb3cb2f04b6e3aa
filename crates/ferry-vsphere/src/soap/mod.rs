//! SOAP over the HTTPS transport: send one request body, return the
//! `returnval` elements of the answer, or turn a SOAP fault into an
//! [`Error`] that names the method and the vSphere fault type.
pub mod xml;

use std::time::Duration;

use bytes::Bytes;

use crate::error::{Error, ErrorKind, Result};
use crate::http::{Call, Transport};
pub use xml::{Body, Node};

/// Largest SOAP answer accepted (property retrieval is paged far below it).
pub(crate) const MAX_ANSWER: usize = 256 << 20;

/// The API version sent in `SOAPAction` (`urn:vim25/<version>`).
pub(crate) const API_VERSION: &str = "6.5";

/// Send `body` to `path` with the session `cookie` (if any). Returns the
/// response element (`<MethodResponse>`) and the `Set-Cookie` value.
pub(crate) async fn invoke(
    transport: &Transport,
    path: &str,
    cookie: Option<&str>,
    body: &Body,
    timeout: Option<Duration>,
) -> Result<(Node, Option<String>)> {
    let method = body.method();
    let mut headers = vec![
        (
            http::header::CONTENT_TYPE,
            "text/xml; charset=utf-8".to_string(),
        ),
        (
            http::HeaderName::from_static("soapaction"),
            format!("urn:vim25/{API_VERSION}"),
        ),
    ];
    if let Some(c) = cookie {
        headers.push((http::header::COOKIE, c.to_string()));
    }
    let call = Call {
        method: http::Method::POST,
        target: path.to_string(),
        headers,
        body: Bytes::from(body.envelope()),
    };
    let answer = transport
        .send(&call, MAX_ANSWER, timeout)
        .await
        .map_err(|e| e.context(method))?;
    let set_cookie = answer
        .headers
        .get_all(http::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(session_cookie);
    let ctype = answer
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !ctype.contains("xml") {
        return Err(Error::new(
            if answer.status == http::StatusCode::NOT_FOUND {
                ErrorKind::NotFound
            } else {
                ErrorKind::Protocol
            },
            format!(
                "{method}: {} answered HTTP {} with {:?} instead of SOAP: is {path} a vSphere SDK endpoint?",
                transport.endpoint().authority(),
                answer.status,
                ctype
            ),
        ));
    }
    let root = xml::parse(&answer.body).map_err(|e| e.context(method))?;
    let soap_body = root
        .child("Body")
        .ok_or_else(|| Error::protocol(format!("{method}: the answer has no SOAP Body")))?;
    if let Some(fault) = soap_body.child("Fault") {
        return Err(fault_error(method, fault));
    }
    let resp = soap_body
        .children
        .first()
        .cloned()
        .ok_or_else(|| Error::protocol(format!("{method}: the SOAP Body is empty")))?;
    Ok((resp, set_cookie))
}

/// `vmware_soap_session="..."` from a `Set-Cookie` value (attributes dropped).
fn session_cookie(v: &str) -> Option<String> {
    let first = v.split(';').next()?.trim();
    let (name, value) = first.split_once('=')?;
    (!name.is_empty() && !value.is_empty()).then(|| first.to_string())
}

/// The fault type of a SOAP fault element.
fn fault_name(fault: &Node) -> String {
    if let Some(detail) = fault.child("detail")
        && let Some(d) = detail.children.first()
    {
        if let Some(t) = &d.xsi_type {
            return t.clone();
        }
        return d.name.strip_suffix("Fault").unwrap_or(&d.name).to_string();
    }
    "SystemError".to_string()
}

fn fault_error(method: &str, fault: &Node) -> Error {
    let name = fault_name(fault);
    let text = fault.text_of("faultstring").unwrap_or_default().trim();
    let kind = Error::kind_of_fault(&name);
    let message = if text.is_empty() {
        format!("{method} failed with {name}")
    } else {
        format!("{method} failed with {name}: {text}")
    };
    Error::new(kind, message).with_fault(name)
}

/// Read a `LocalizedMethodFault` (task `info.error`, `missingSet.fault`).
pub(crate) fn localized_fault(n: &Node) -> (String, String) {
    let name = n
        .child("fault")
        .and_then(|f| f.xsi_type.clone())
        .unwrap_or_else(|| "SystemError".to_string());
    let msg = n
        .text_of("localizedMessage")
        .unwrap_or_default()
        .trim()
        .to_string();
    (name, msg)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn faults_are_named() {
        let doc = br#"<soapenv:Envelope xmlns:soapenv="s" xmlns:xsi="i"><soapenv:Body><soapenv:Fault>
<faultcode>ServerFaultCode</faultcode><faultstring>Cannot complete login due to an incorrect user name or password.</faultstring>
<detail><InvalidLoginFault xmlns="urn:vim25" xsi:type="InvalidLogin"></InvalidLoginFault></detail>
</soapenv:Fault></soapenv:Body></soapenv:Envelope>"#;
        let root = xml::parse(doc).unwrap();
        let f = root.path("Body/Fault").unwrap();
        let e = fault_error("Login", f);
        assert_eq!(e.kind(), ErrorKind::InvalidLogin);
        assert_eq!(e.fault(), Some("InvalidLogin"));
        assert!(
            e.to_string()
                .starts_with("Login failed with InvalidLogin: Cannot")
        );
    }

    #[test]
    fn cookies_keep_only_name_and_value() {
        assert_eq!(
            session_cookie("vmware_soap_session=\"abc\"; Path=/; HttpOnly; Secure;").as_deref(),
            Some("vmware_soap_session=\"abc\"")
        );
        assert_eq!(session_cookie("; Path=/"), None);
    }
}
