// ferry-vcsim: the govmomi vSphere API simulator as a test peer for ferry.
//
// It builds a vCenter-like inventory (simulator.VPX with the counts given by
// flags), serves it over TLS on 127.0.0.1 with a fresh self-signed
// certificate, prints one JSON line on stdout describing how to reach it and
// then serves until killed.
//
// Two additions to the stock simulator:
//
//   - ReconfigVM_Task adding a VirtualDisk with no fileOperation whose backing
//     file is a single-file VMDK (monolithicSparse/streamOptimized, uploaded
//     over /folder): the simulator insists that "<name>-flat.vmdk" exists.
//     The front handler creates an empty placeholder for the call and removes
//     it afterwards, so the disk attaches and the datastore holds only the
//     real file.
//   - POST /ferry/attach?vm=<moref>&file=<[ds] path>&capacity=<bytes>: the
//     harness's way to attach an uploaded disk. It makes a real
//     ReconfigVM_Task call (VirtualDisk add on the VM's first disk
//     controller, next free unit, backing fileName set, no fileOperation)
//     through a govmomi client against this same server, and answers
//     {"key":..,"controllerKey":..,"unitNumber":..}.
//   - QueryChangedDiskAreas and changeIds on snapshots (see cbt.go).
//   - RetrievePropertiesEx honours maxObjects with tokens, and
//     ContinueRetrievePropertiesEx / CancelRetrievePropertiesEx (paging.go).
//   - -folder-auth: /folder answers 401 without a live session cookie.
//   - GET /ferry/vms: [{"moref":"vm-54","name":"DC0_H0_VM0"},...] sorted by
//     name, so tests can pick VMs without a SOAP client of their own.
//
// Build (see .ci/peers.sh):
//
//	cd crates/ferry-testutil/vcsim && GO111MODULE=off GOPATH=<tmp>:/usr/share/gocode go build -o /usr/local/bin/ferry-vcsim .
package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vmware/govmomi"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

type info struct {
	URL          string `json:"url"`
	Host         string `json:"host"`
	Username     string `json:"username"`
	Password     string `json:"password"`
	CertPath     string `json:"cert_path"`
	CertPEM      string `json:"cert_pem"`
	Thumbprint   string `json:"thumbprint"`
	Datacenter   string `json:"datacenter"`
	Datastore    string `json:"datastore"`
	DatastoreDir string `json:"datastore_dir"`
}

func selfSigned(dir string) (tls.Certificate, string, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, "", nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, "", nil, err
	}
	tmpl := x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "ferry-vcsim", Organization: []string{"ferry test"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  false,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, "", nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, "", nil, err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, "", nil, err
	}
	sum := sha1.Sum(der)
	hexs := strings.ToUpper(hex.EncodeToString(sum[:]))
	parts := make([]string, 0, len(sum))
	for i := 0; i < len(hexs); i += 2 {
		parts = append(parts, hexs[i:i+2])
	}
	certPath := filepath.Join(dir, "vcsim-cert.pem")
	if err := ioutil.WriteFile(certPath, certPEM, 0o600); err != nil {
		return tls.Certificate{}, "", nil, err
	}
	return pair, strings.Join(parts, ":"), certPEM, nil
}

var fileNameRe = regexp.MustCompile(`<fileName>\[([^\]]+)\] ?([^<]*)</fileName>`)

// datastoreDir maps a datastore name to its local directory.
func datastoreDir(name string) string {
	for _, obj := range simulator.Map.All("Datastore") {
		ds, ok := obj.(*simulator.Datastore)
		if ok && ds.Name == name {
			return ds.Info.GetDatastoreInfo().Url
		}
	}
	return ""
}

// reconfigFront creates "-flat.vmdk" placeholders for single-file VMDKs
// attached with ReconfigVM_Task, for the duration of the call.
// folderAuth is set by -folder-auth: /folder requests need a live session
// cookie, as on a real vCenter.
var folderAuth bool

// sessionAlive asks the simulator itself (CurrentTime with the request's
// cookie) whether the session is live.
func sessionAlive(next http.Handler, r *http.Request) bool {
	c, err := r.Cookie("vmware_soap_session")
	if err != nil {
		return false
	}
	body := `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><CurrentTime xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></CurrentTime></soapenv:Body></soapenv:Envelope>`
	req := httptest.NewRequest(http.MethodPost, "/sdk", strings.NewReader(body))
	req.Header.Set("Content-Type", "text/xml")
	req.Header.Set("SOAPAction", "urn:vim25/6.5")
	req.AddCookie(c)
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, req)
	return rec.Code == http.StatusOK && !strings.Contains(rec.Body.String(), "NotAuthenticated")
}

func reconfigFront(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if folderAuth && strings.HasPrefix(r.URL.Path, "/folder/") && !sessionAlive(next, r) {
			http.Error(w, "not authenticated", http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodPost || !strings.HasPrefix(r.URL.Path, "/sdk") {
			next.ServeHTTP(w, r)
			return
		}
		body, err := ioutil.ReadAll(http.MaxBytesReader(w, r.Body, 64<<20))
		if err != nil {
			http.Error(w, "request body: "+err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = ioutil.NopCloser(bytes.NewReader(body))
		if bytes.Contains(body, []byte("<QueryChangedDiskAreas")) {
			cbt.queryChangedDiskAreas(w, r, body)
			return
		}
		if bytes.Contains(body, []byte("<RetrievePropertiesEx")) && paging.retrieve(next, w, r, body) {
			return
		}
		if bytes.Contains(body, []byte("<ContinueRetrievePropertiesEx")) {
			paging.resume(w, body, false)
			return
		}
		if bytes.Contains(body, []byte("<CancelRetrievePropertiesEx")) {
			paging.resume(w, body, true)
			return
		}
		var placeholders []string
		if bytes.Contains(body, []byte("ReconfigVM_Task")) && !bytes.Contains(body, []byte("<fileOperation>")) {
			for _, m := range fileNameRe.FindAllSubmatch(body, -1) {
				dir := datastoreDir(string(m[1]))
				rel := path.Clean("/" + string(m[2]))
				if dir == "" || !strings.HasSuffix(rel, ".vmdk") {
					continue
				}
				real := filepath.Join(dir, rel)
				flat := strings.Replace(real, ".vmdk", "-flat.vmdk", 1)
				if _, err := os.Stat(real); err != nil {
					continue
				}
				if _, err := os.Stat(flat); err == nil {
					continue
				}
				if f, err := os.Create(flat); err == nil {
					f.Close()
					placeholders = append(placeholders, flat)
				}
			}
		}
		snapVM, snapBefore := "", ""
		if bytes.Contains(body, []byte("<CreateSnapshot_Task")) {
			if m := thisRe.FindSubmatch(body); m != nil {
				snapVM = strings.TrimSpace(string(m[1]))
				snapBefore = currentSnapshot(snapVM)
			}
		}
		next.ServeHTTP(w, r)
		for _, p := range placeholders {
			os.Remove(p)
		}
		if snapVM != "" && currentSnapshot(snapVM) != snapBefore {
			cbt.afterSnapshot(snapVM)
		}
	})
}

type attached struct {
	Key           int32 `json:"key"`
	ControllerKey int32 `json:"controllerKey"`
	UnitNumber    int32 `json:"unitNumber"`
}

// attachHandler serves POST /ferry/attach (see the file comment).
func attachHandler(self *url.URL) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fail := func(code int, err error) {
			http.Error(w, err.Error(), code)
		}
		if r.Method != http.MethodPost {
			fail(http.StatusMethodNotAllowed, fmt.Errorf("POST only"))
			return
		}
		q := r.URL.Query()
		capacity, err := strconv.ParseInt(q.Get("capacity"), 10, 64)
		if err != nil || capacity <= 0 {
			fail(http.StatusBadRequest, fmt.Errorf("capacity: want a positive byte count"))
			return
		}
		var dsPath object.DatastorePath
		if !dsPath.FromString(q.Get("file")) {
			fail(http.StatusBadRequest, fmt.Errorf("file: want \"[datastore] path.vmdk\""))
			return
		}
		ctx := context.Background()
		c, err := govmomi.NewClient(ctx, self, true)
		if err != nil {
			fail(http.StatusInternalServerError, err)
			return
		}
		defer c.Logout(ctx)
		vm := object.NewVirtualMachine(c.Client, types.ManagedObjectReference{Type: "VirtualMachine", Value: q.Get("vm")})
		devices, err := vm.Device(ctx)
		if err != nil {
			fail(http.StatusNotFound, err)
			return
		}
		ctrl, err := devices.FindDiskController("scsi")
		if err != nil {
			ctrl, err = devices.FindDiskController("")
		}
		if err != nil {
			fail(http.StatusConflict, err)
			return
		}
		var dsRef types.ManagedObjectReference
		for _, obj := range simulator.Map.All("Datastore") {
			if d, ok := obj.(*simulator.Datastore); ok && d.Name == dsPath.Datastore {
				dsRef = d.Self
			}
		}
		if dsRef.Value == "" {
			fail(http.StatusNotFound, fmt.Errorf("datastore %q not found", dsPath.Datastore))
			return
		}
		disk := devices.CreateDisk(ctrl, dsRef, dsPath.String())
		disk.Key = -1 // let the server pick, as vCenter does
		disk.CapacityInBytes = capacity
		disk.CapacityInKB = capacity / 1024
		spec := types.VirtualMachineConfigSpec{DeviceChange: []types.BaseVirtualDeviceConfigSpec{
			&types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationAdd, Device: disk},
		}}
		task, err := vm.Reconfigure(ctx, spec)
		if err == nil {
			err = task.Wait(ctx)
		}
		if err != nil {
			fail(http.StatusInternalServerError, fmt.Errorf("ReconfigVM_Task: %v", err))
			return
		}
		out := attached{Key: disk.Key, ControllerKey: disk.ControllerKey}
		if disk.UnitNumber != nil {
			out.UnitNumber = *disk.UnitNumber
		}
		// The server may have renumbered the key: read the device back.
		if after, err := vm.Device(ctx); err == nil {
			for _, d := range after.SelectByType((*types.VirtualDisk)(nil)) {
				vd := d.(*types.VirtualDisk)
				if b, ok := vd.Backing.(*types.VirtualDiskFlatVer2BackingInfo); ok && b.FileName == dsPath.String() {
					out.Key = vd.Key
					out.ControllerKey = vd.ControllerKey
					if vd.UnitNumber != nil {
						out.UnitNumber = *vd.UnitNumber
					}
				}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	}
}

type vmRef struct {
	Moref string `json:"moref"`
	Name  string `json:"name"`
}

func vmsHandler(w http.ResponseWriter, r *http.Request) {
	var out []vmRef
	for _, obj := range simulator.Map.All("VirtualMachine") {
		if vm, ok := obj.(*simulator.VirtualMachine); ok {
			out = append(out, vmRef{Moref: vm.Self.Value, Name: vm.Name})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func main() {
	dc := flag.Int("dc", 1, "datacenters")
	cluster := flag.Int("cluster", 1, "clusters per datacenter")
	hosts := flag.Int("host", 2, "hosts per cluster")
	standalone := flag.Int("standalone-host", 1, "standalone hosts per datacenter")
	vms := flag.Int("vm", 2, "VMs per resource pool")
	ds := flag.Int("ds", 1, "datastores")
	pg := flag.Int("pg", 1, "distributed port groups per datacenter")
	user := flag.String("username", "administrator@vsphere.local", "login user")
	pass := flag.String("password", "", "login password (random when empty)")
	flag.BoolVar(&folderAuth, "folder-auth", false, "require a live session cookie on /folder")
	flag.Parse()

	if *pass == "" {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			log.Fatal(err)
		}
		*pass = "Pw-" + hex.EncodeToString(b)
	}

	dir, err := ioutil.TempDir("", "ferry-vcsim-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	model := simulator.VPX()
	model.Datacenter = *dc
	model.Cluster = *cluster
	model.ClusterHost = *hosts
	model.Host = *standalone
	model.Machine = *vms
	model.Datastore = *ds
	model.Portgroup = *pg
	if err := model.Create(); err != nil {
		log.Fatal(err)
	}
	defer model.Remove()

	cbt.dir = dir
	pair, thumb, certPEM, err := selfSigned(dir)
	if err != nil {
		log.Fatal(err)
	}
	model.Service.Listen = &url.URL{Host: "127.0.0.1:0", User: url.UserPassword(*user, *pass)}
	model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv := model.Service.NewServer()
	defer srv.Close()
	// No request has been made yet: nobody knows the address until the
	// line below is printed.
	model.Service.ServeMux.HandleFunc("/ferry/attach", attachHandler(srv.URL))
	model.Service.ServeMux.HandleFunc("/ferry/vms", vmsHandler)
	model.Service.ServeMux.HandleFunc("/ferry/add-nic", addNicHandler(srv.URL))
	srv.Config.Handler = reconfigFront(srv.Config.Handler)

	u := *srv.URL
	u.User = nil
	dsDir := ""
	dsName := ""
	for _, obj := range simulator.Map.All("Datastore") {
		if d, ok := obj.(*simulator.Datastore); ok {
			if dsName == "" || d.Name < dsName {
				dsName = d.Name
				dsDir = d.Info.GetDatastoreInfo().Url
			}
		}
	}
	out := info{
		URL:          u.String(),
		Host:         u.Host,
		Username:     *user,
		Password:     *pass,
		CertPath:     filepath.Join(dir, "vcsim-cert.pem"),
		CertPEM:      string(certPEM),
		Thumbprint:   thumb,
		Datacenter:   "DC0",
		Datastore:    dsName,
		DatastoreDir: dsDir,
	}
	line, err := json.Marshal(out)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(line))
	os.Stdout.Sync()

	// Serve until a signal or until stdin closes (the harness holds it
	// open, so the simulator never outlives the test process).
	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(ioutil.Discard, os.Stdin)
		done <- struct{}{}
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		done <- struct{}{}
	}()
	<-done
}
