// RetrievePropertiesEx paging, which the simulator ignores: when a request
// sets options.maxObjects and the answer holds more objects, the front
// handler returns the first maxObjects with a token and keeps the rest for
// ContinueRetrievePropertiesEx (and CancelRetrievePropertiesEx), as vCenter
// does.
package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
)

type pager struct {
	mu    sync.Mutex
	seq   int
	pages map[string]*pending
}

type pending struct {
	header, footer []byte
	objects        [][]byte
	max            int
}

var paging = &pager{pages: map[string]*pending{}}

// splitObjects finds the <objects> elements directly under <returnval>.
func splitObjects(doc []byte) (header, footer []byte, objects [][]byte, err error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	depth, retDepth := 0, -1
	var start int64 = -1
	first, last := int64(-1), int64(-1)
	for {
		before := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if t.Name.Local == "returnval" && retDepth < 0 {
				retDepth = depth
			} else if t.Name.Local == "objects" && depth == retDepth+1 {
				start = before
				if first < 0 {
					first = before
				}
			}
		case xml.EndElement:
			if t.Name.Local == "objects" && depth == retDepth+1 && start >= 0 {
				end := d.InputOffset()
				objects = append(objects, doc[start:end])
				last = end
				start = -1
			}
			depth--
		}
	}
	if first < 0 {
		return nil, nil, nil, nil
	}
	return doc[:first], doc[last:], objects, nil
}

// page writes one page of p (consuming it) and its token if more remain.
func (pg *pager) page(w http.ResponseWriter, p *pending, method string) {
	n := p.max
	if n > len(p.objects) {
		n = len(p.objects)
	}
	var body bytes.Buffer
	header := p.header
	if method != "" {
		// Continue answers are ContinueRetrievePropertiesExResponse.
		header = bytes.Replace(header, []byte("RetrievePropertiesExResponse"), []byte(method+"Response"), 1)
	}
	body.Write(header)
	for _, o := range p.objects[:n] {
		body.Write(o)
	}
	p.objects = p.objects[n:]
	if len(p.objects) > 0 {
		pg.mu.Lock()
		pg.seq++
		token := strconv.Itoa(pg.seq)
		pg.pages[token] = p
		pg.mu.Unlock()
		fmt.Fprintf(&body, "<token>%s</token>", token)
	}
	footer := p.footer
	if method != "" {
		footer = bytes.Replace(footer, []byte("RetrievePropertiesExResponse"), []byte(method+"Response"), 1)
	}
	body.Write(footer)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write(body.Bytes())
}

// retrieve handles RetrievePropertiesEx with maxObjects; false when the
// request is left to the simulator as is.
func (pg *pager) retrieve(next http.Handler, w http.ResponseWriter, r *http.Request, body []byte) bool {
	max, err := strconv.Atoi(tagValue(body, "maxObjects"))
	if err != nil || max <= 0 {
		return false
	}
	req := httptest.NewRequest(r.Method, r.URL.String(), bytes.NewReader(body))
	req.Header = r.Header.Clone()
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, req)
	doc := rec.Body.Bytes()
	header, footer, objects, err := splitObjects(doc)
	if rec.Code != http.StatusOK || err != nil || len(objects) <= max {
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(doc)
		return true
	}
	pg.page(w, &pending{header: header, footer: footer, objects: objects, max: max}, "")
	return true
}

// next answers ContinueRetrievePropertiesEx and CancelRetrievePropertiesEx.
func (pg *pager) resume(w http.ResponseWriter, body []byte, cancel bool) {
	token := tagValue(body, "token")
	pg.mu.Lock()
	p, ok := pg.pages[token]
	delete(pg.pages, token)
	pg.mu.Unlock()
	if !ok {
		soapFault(w, "InvalidArgument", "token "+token+" is not known")
		return
	}
	if cancel {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><CancelRetrievePropertiesExResponse xmlns="urn:vim25"></CancelRetrievePropertiesExResponse></soapenv:Body></soapenv:Envelope>`)
		return
	}
	pg.page(w, p, "ContinueRetrievePropertiesEx")
}
