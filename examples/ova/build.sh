#!/usr/bin/env bash
# Build sample OVA appliances for ferry from qemu-img-made streamOptimized
# VMDKs with deterministic content (qemu-io patterns), each with a SHA256
# manifest, laid out like vSphere/ovftool exports.
#
# usage: examples/ova/build.sh OUTDIR
#
# OUTDIR/appliances/         a provider path (point an OVA Provider here)
#   two-disk-bios.ova        BIOS, 2 disks (pvscsi + SATA), 2 NICs on
#                            "VM Network" and "Storage Network"
#   efi-vm.ova               EFI firmware, 1 disk, 1 NIC
#   concern-vm.ova           name "Concern VM_01" (invalid) and CPU/memory
#                            hot plug enabled: raises two Warning concerns
#   extracted/extracted-vm.ovf  an extracted (folder) package, 1 disk
# OUTDIR/reference/<disk>.raw  the raw source of every disk, for
#                            `qemu-img compare reference/X.raw migrated-X`
# OUTDIR/corrupt/            broken packages (a second provider path):
#   bad-checksum.ova         a disk whose SHA256 does not match the .mf
#   traversal.ova            a File href "../../etc/passwd"
#   missing-file.ova         the OVF and .mf list a disk the archive lacks
#   truncated.ova            the archive ends in the middle of the disk
#
# Needs: qemu-img, qemu-io, sha256sum, tar, truncate. Idempotent: OUTDIR is
# rebuilt from scratch.
set -euo pipefail

out=${1:?usage: $0 OUTDIR}
for tool in qemu-img qemu-io sha256sum tar truncate; do
  command -v "$tool" >/dev/null || { echo "error: $tool is required" >&2; exit 1; }
done
rm -rf "$out"
mkdir -p "$out/appliances/extracted" "$out/reference" "$out/corrupt"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

MiB=$((1024 * 1024))

# make_disk NAME SIZE_MIB "OFFSET_MIB:LEN_MIB:PATTERN ..." -> reference/NAME.raw, $work/NAME.vmdk
# Prints the populated size in bytes (the patterned bytes).
make_disk() {
  local name=$1 size=$2 writes=$3 raw="$out/reference/$1.raw" populated=0 args=() w off len pat
  qemu-img create -q -f raw "$raw" "${size}M"
  for w in $writes; do
    IFS=: read -r off len pat <<<"$w"
    args+=(-c "write -P $pat $((off * MiB)) $((len * MiB))")
    populated=$((populated + len * MiB))
  done
  qemu-io -f raw "${args[@]}" "$raw" >/dev/null
  qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$raw" "$work/$name.vmdk"
  echo "$populated"
}

# write_ovf FILE NAME FIRMWARE CPUS CORES MEM_MIB HOTPLUG DISKS NICS
#   DISKS: "file:capacity_mib:populated_bytes:bus" (bus scsi|sata), space separated
#   NICS:  "network|mac|model", space separated (network names may hold spaces: use _)
write_ovf() {
  local file=$1 name=$2 firmware=$3 cpus=$4 cores=$5 mem=$6 hotplug=$7 disks=$8 nics=$9
  local i=0 refs="" disksec="" items="" nets="" id=10 seen="" d f cap pop bus nic net mac model
  for d in $disks; do
    IFS=: read -r f cap pop bus <<<"$d"
    i=$((i + 1))
    local size=0
    [ -f "$work/$f" ] && size=$(stat -c %s "$work/$f")
    refs+="    <File ovf:href=\"$f\" ovf:id=\"file$i\" ovf:size=\"$size\"/>"$'\n'
    disksec+="    <Disk ovf:capacity=\"$cap\" ovf:capacityAllocationUnits=\"byte * 2^20\" ovf:diskId=\"vmdisk$i\" ovf:fileRef=\"file$i\" ovf:format=\"http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized\" ovf:populatedSize=\"$pop\"/>"$'\n'
    local parent=3
    [ "$bus" = sata ] && parent=4
    items+="      <Item>
        <rasd:AddressOnParent>$((i - 1))</rasd:AddressOnParent>
        <rasd:ElementName>Hard disk $i</rasd:ElementName>
        <rasd:HostResource>ovf:/disk/vmdisk$i</rasd:HostResource>
        <rasd:InstanceID>$id</rasd:InstanceID>
        <rasd:Parent>$parent</rasd:Parent>
        <rasd:ResourceType>17</rasd:ResourceType>
      </Item>"$'\n'
    id=$((id + 1))
  done
  local n=0
  for nic in $nics; do
    IFS='|' read -r net mac model <<<"$nic"
    net=${net//_/ }
    n=$((n + 1))
    case "$seen" in *"|$net|"*) ;; *)
      seen+="|$net|"
      nets+="    <Network ovf:name=\"$net\">
      <Description>The $net network</Description>
    </Network>"$'\n' ;;
    esac
    items+="      <Item>
        <rasd:Address>$mac</rasd:Address>
        <rasd:AddressOnParent>$((6 + n))</rasd:AddressOnParent>
        <rasd:AutomaticAllocation>true</rasd:AutomaticAllocation>
        <rasd:Connection>$net</rasd:Connection>
        <rasd:Description>$model ethernet adapter on &quot;$net&quot;</rasd:Description>
        <rasd:ElementName>Network adapter $n</rasd:ElementName>
        <rasd:InstanceID>$id</rasd:InstanceID>
        <rasd:ResourceSubType>$model</rasd:ResourceSubType>
        <rasd:ResourceType>10</rasd:ResourceType>
        <vmw:Config ovf:required=\"false\" vmw:key=\"slotInfo.pciSlotNumber\" vmw:value=\"$((190 + n))\"/>
      </Item>"$'\n'
    id=$((id + 1))
  done
  cat >"$file" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!--Sample appliance built by ferry examples/ova/build.sh in the layout of VMware ovftool-->
<Envelope vmw:buildId="build-ferry-sample" xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" xmlns:vmw="http://www.vmware.com/schema/ovf" xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <References>
${refs}  </References>
  <DiskSection>
    <Info>Virtual disk information</Info>
${disksec}  </DiskSection>
  <NetworkSection>
    <Info>The list of logical networks</Info>
${nets}  </NetworkSection>
  <VirtualSystem ovf:id="$name">
    <Info>A virtual machine</Info>
    <Name>$name</Name>
    <OperatingSystemSection ovf:id="80" vmw:osType="rhel9_64Guest">
      <Info>The kind of installed guest operating system</Info>
      <Description>Red Hat Enterprise Linux 9 (64-bit)</Description>
    </OperatingSystemSection>
    <VirtualHardwareSection>
      <Info>Virtual hardware requirements</Info>
      <System>
        <vssd:ElementName>Virtual Hardware Family</vssd:ElementName>
        <vssd:InstanceID>0</vssd:InstanceID>
        <vssd:VirtualSystemIdentifier>$name</vssd:VirtualSystemIdentifier>
        <vssd:VirtualSystemType>vmx-19</vssd:VirtualSystemType>
      </System>
      <Item>
        <rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits>
        <rasd:Description>Number of Virtual CPUs</rasd:Description>
        <rasd:ElementName>$cpus virtual CPU(s)</rasd:ElementName>
        <rasd:InstanceID>1</rasd:InstanceID>
        <rasd:ResourceType>3</rasd:ResourceType>
        <rasd:VirtualQuantity>$cpus</rasd:VirtualQuantity>
        <vmw:CoresPerSocket ovf:required="false">$cores</vmw:CoresPerSocket>
      </Item>
      <Item>
        <rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits>
        <rasd:Description>Memory Size</rasd:Description>
        <rasd:ElementName>${mem}MB of memory</rasd:ElementName>
        <rasd:InstanceID>2</rasd:InstanceID>
        <rasd:ResourceType>4</rasd:ResourceType>
        <rasd:VirtualQuantity>$mem</rasd:VirtualQuantity>
      </Item>
      <Item>
        <rasd:Address>0</rasd:Address>
        <rasd:Description>SCSI Controller</rasd:Description>
        <rasd:ElementName>SCSI controller 0</rasd:ElementName>
        <rasd:InstanceID>3</rasd:InstanceID>
        <rasd:ResourceSubType>VirtualSCSI</rasd:ResourceSubType>
        <rasd:ResourceType>6</rasd:ResourceType>
      </Item>
      <Item>
        <rasd:Address>0</rasd:Address>
        <rasd:Description>SATA Controller</rasd:Description>
        <rasd:ElementName>SATA controller 0</rasd:ElementName>
        <rasd:InstanceID>4</rasd:InstanceID>
        <rasd:ResourceSubType>vmware.sata.ahci</rasd:ResourceSubType>
        <rasd:ResourceType>20</rasd:ResourceType>
      </Item>
${items}      <vmw:Config ovf:required="false" vmw:key="cpuHotAddEnabled" vmw:value="$hotplug"/>
      <vmw:Config ovf:required="false" vmw:key="cpuHotRemoveEnabled" vmw:value="false"/>
      <vmw:Config ovf:required="false" vmw:key="firmware" vmw:value="$firmware"/>
      <vmw:Config ovf:required="false" vmw:key="memoryHotAddEnabled" vmw:value="$hotplug"/>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
EOF
}

# write_mf DIR BASE FILES... -> DIR/BASE.mf with SHA256 of each file in DIR
write_mf() {
  local dir=$1 base=$2 f
  shift 2
  : >"$dir/$base.mf"
  for f in "$@"; do
    echo "SHA256($f)= $(sha256sum "$dir/$f" | cut -d' ' -f1)" >>"$dir/$base.mf"
  done
}

# pack OVA DIR FILES... (the .ovf first, as the OVF spec requires)
pack() {
  local ova=$1 dir=$2
  shift 2
  tar --format=ustar --owner=0 --group=0 --numeric-owner --mode=0644 \
    --mtime=@1700000000 -cf "$ova" -C "$dir" "$@"
}

# appliance NAME FIRMWARE CPUS CORES MEM HOTPLUG "disk specs" "nic specs" -> $work/NAME/
# disk specs: "size_mib:writes" where writes are off:len:pattern joined by ','
appliance() {
  local name=$1 firmware=$2 cpus=$3 cores=$4 mem=$5 hotplug=$6 dspecs=$7 nics=$8
  local dir="$work/$name" disks="" files=() i=0 spec
  mkdir -p "$dir"
  for spec in $dspecs; do
    i=$((i + 1))
    local size=${spec%%/*} writes=${spec#*/} bus=scsi file="$name-disk$i.vmdk" pop
    [ "$i" -eq 2 ] && bus=sata
    pop=$(make_disk "$name-disk$i" "$size" "${writes//,/ }")
    mv "$work/$name-disk$i.vmdk" "$dir/$file"
    cp "$dir/$file" "$work/$file"
    disks+="$file:$size:$pop:$bus "
    files+=("$file")
  done
  write_ovf "$dir/$name.ovf" "$name" "$firmware" "$cpus" "$cores" "$mem" "$hotplug" "$disks" "$nics"
  write_mf "$dir" "$name" "$name.ovf" "${files[@]}"
  echo "$dir"
}

# (a) two disks, BIOS, two NICs with distinct MACs on two networks
a=$(appliance two-disk-bios bios 2 1 2048 false \
  "64/0:1:0x11,10:2:0x22,63:1:0x33 32/0:1:0x44,31:1:0x55" \
  "VM_Network|00:50:56:a1:00:01|VmxNet3 Storage_Network|00:50:56:a1:00:02|E1000e")
pack "$out/appliances/two-disk-bios.ova" "$a" two-disk-bios.ovf two-disk-bios.mf two-disk-bios-disk1.vmdk two-disk-bios-disk2.vmdk

# (b) EFI
b=$(appliance efi-vm efi 4 2 4096 false "48/0:2:0x66,40:1:0x77" "VM_Network|00:50:56:a2:00:01|VmxNet3")
pack "$out/appliances/efi-vm.ova" "$b" efi-vm.ovf efi-vm.mf efi-vm-disk1.vmdk

# (c) concerns: an invalid name and CPU/memory hot plug
c=$(appliance concern-vm bios 1 1 1024 true "16/0:1:0x88" "VM_Network|00:50:56:a3:00:01|E1000e")
sed -i 's|<Name>concern-vm</Name>|<Name>Concern VM_01</Name>|' "$c/concern-vm.ovf"
write_mf "$c" concern-vm concern-vm.ovf concern-vm-disk1.vmdk
pack "$out/appliances/concern-vm.ova" "$c" concern-vm.ovf concern-vm.mf concern-vm-disk1.vmdk

# (d) an extracted package (folder layout)
d=$(appliance extracted-vm bios 1 1 1024 false "24/0:1:0x99,20:1:0xaa" "VM_Network|00:50:56:a4:00:01|VmxNet3")
cp "$d/extracted-vm.ovf" "$d/extracted-vm.mf" "$d/extracted-vm-disk1.vmdk" "$out/appliances/extracted/"

# Corrupt variants.
e=$(appliance bad-checksum bios 1 1 512 false "8/0:1:0xbb" "VM_Network|00:50:56:a5:00:01|VmxNet3")
write_mf "$e" bad-checksum bad-checksum.ovf
echo "SHA256(bad-checksum-disk1.vmdk)= $(printf 'not the disk' | sha256sum | cut -d' ' -f1)" >>"$e/bad-checksum.mf"
pack "$out/corrupt/bad-checksum.ova" "$e" bad-checksum.ovf bad-checksum.mf bad-checksum-disk1.vmdk

f=$(appliance traversal bios 1 1 512 false "8/0:1:0xcc" "VM_Network|00:50:56:a6:00:01|VmxNet3")
sed -i 's|ovf:href="traversal-disk1.vmdk"|ovf:href="../../etc/passwd"|' "$f/traversal.ovf"
write_mf "$f" traversal traversal.ovf traversal-disk1.vmdk
pack "$out/corrupt/traversal.ova" "$f" traversal.ovf traversal.mf traversal-disk1.vmdk

g=$(appliance missing-file bios 1 1 512 false "8/0:1:0xdd" "VM_Network|00:50:56:a7:00:01|VmxNet3")
pack "$out/corrupt/missing-file.ova" "$g" missing-file.ovf missing-file.mf

h=$(appliance truncated bios 1 1 512 false "8/0:1:0xee,7:1:0xef" "VM_Network|00:50:56:a8:00:01|VmxNet3")
pack "$out/corrupt/truncated.ova" "$h" truncated.ovf truncated.mf truncated-disk1.vmdk
truncate -s $(( $(stat -c %s "$out/corrupt/truncated.ova") - 2048 - $(stat -c %s "$h/truncated-disk1.vmdk") / 2 )) "$out/corrupt/truncated.ova"

# Every file is complete now: date them two minutes back so that the OVA
# provider (which skips files modified in the last 30 s, as they may still be
# being copied) takes them at once.
find "$out" -type f -exec touch -d '-2 min' {} +

echo "built sample appliances in $out:"
(cd "$out" && find appliances corrupt -type f | sort)
