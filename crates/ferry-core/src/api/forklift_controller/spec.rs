//! The ForkliftController spec fields (from Forklift's CRD: names, types,
//! defaults, patterns and minimums).

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    BoolString, DURATION, ForkliftControllerStatus, McpOutputFormat, NO_TEMPLATE, PullPolicy,
    QUANTITY,
};

/// ForkliftController spec: flat snake_case settings.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "forklift.konveyor.io",
    version = "v1beta1",
    kind = "ForkliftController",
    doc = "Operator configuration: flat snake_case settings.",
    plural = "forkliftcontrollers",
    namespaced,
    status = "ForkliftControllerStatus"
)]
pub struct ForkliftControllerSpec {
    /// Name of the Secret containing a custom CA certificate (data key: ca.crt) for AAP TLS verification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aap_ca_secret_name: Option<String>,
    /// Skip TLS certificate verification when connecting to AAP.
    #[schemars(extend("default" = "false"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aap_insecure_skip_verify: Option<BoolString>,
    /// Default timeout in seconds for AAP HTTP calls and job polling.
    #[schemars(extend("minimum" = 1))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aap_timeout: Option<i32>,
    /// Name of the Secret containing the AAP API Bearer token (data key: token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aap_token_secret_name: Option<String>,
    /// Ansible Automation Platform base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aap_url: Option<String>,
    /// API service CPU limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "1000m"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_container_limits_cpu: Option<String>,
    /// API service memory limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "1Gi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_container_limits_memory: Option<String>,
    /// API service CPU request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "100m"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_container_requests_cpu: Option<String>,
    /// API service memory request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "150Mi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_container_requests_memory: Option<String>,
    /// API service image. Optional. If left empty, the operator automatically sets this from the release payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_image_fqin: Option<String>,
    /// CLI download service CPU limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "1000m"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cli_download_container_limits_cpu: Option<String>,
    /// CLI download service memory limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "1Gi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cli_download_container_limits_memory: Option<String>,
    /// CLI download service CPU request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "100m"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cli_download_container_requests_cpu: Option<String>,
    /// CLI download service memory request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "512Mi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cli_download_container_requests_memory: Option<String>,
    /// CLI download service image. Optional. If left empty, the operator automatically sets this from the release payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cli_download_image_fqin: Option<String>,
    /// Block overhead in bytes.
    #[schemars(extend("minimum" = 0))]
    #[schemars(extend("default" = 0))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_block_overhead: Option<i32>,
    /// How long Critical/Error blocker conditions must persist before failing an active migration, in minutes.
    #[schemars(extend("minimum" = 1))]
    #[schemars(extend("default" = 5))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_blocker_grace_period_minutes: Option<i32>,
    /// Cleanup retry count.
    #[schemars(extend("minimum" = 1))]
    #[schemars(extend("default" = 10))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_cleanup_retries: Option<i32>,
    /// Controller CPU limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "2"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_container_limits_cpu: Option<String>,
    /// Controller memory limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "800Mi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_container_limits_memory: Option<String>,
    /// Controller CPU request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "100m"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_container_requests_cpu: Option<String>,
    /// Controller memory request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "350Mi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_container_requests_memory: Option<String>,
    /// Filesystem overhead percentage.
    #[schemars(extend("minimum" = 0))]
    #[schemars(extend("default" = 10))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_filesystem_overhead: Option<i32>,
    /// Host lease duration in seconds.
    #[schemars(extend("minimum" = 1))]
    #[schemars(extend("default" = 10))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_host_lease_duration_seconds: Option<i32>,
    /// Namespace for host lease objects.
    #[schemars(extend("default" = "openshift-mtv"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_host_lease_namespace: Option<String>,
    /// HyperV inventory refresh interval as a Go duration.
    #[schemars(regex(pattern = DURATION))]
    #[schemars(extend("default" = "10s"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_hyperv_refresh_interval: Option<String>,
    /// Timeout for HyperV SMB disk validation HTTP calls as a Go duration.
    #[schemars(regex(pattern = DURATION))]
    #[schemars(extend("default" = "30s"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_hyperv_validation_timeout: Option<String>,
    /// Controller pod image. Optional. If left empty, the operator automatically sets this from the release payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_image_fqin: Option<String>,
    /// Log verbosity level.
    #[schemars(extend("minimum" = 0))]
    #[schemars(extend("default" = 3))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_log_level: Option<i32>,
    /// Max concurrent reconciles.
    #[schemars(extend("minimum" = 1))]
    #[schemars(extend("default" = 10))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_max_concurrent_reconciles: Option<i32>,
    /// Max retries when getting parent disks.
    #[schemars(extend("minimum" = 1))]
    #[schemars(extend("default" = 10))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_max_parent_backing_retries: Option<i32>,
    /// Max concurrent populator pods per ESXi host.
    #[schemars(extend("minimum" = 1))]
    #[schemars(extend("default" = 20))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_max_populator_inflight: Option<i32>,
    /// Max concurrent VM migrations.
    #[schemars(extend("minimum" = 1))]
    #[schemars(extend("default" = 20))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_max_vm_inflight: Option<i32>,
    /// Global default ServiceAccount for migration pods in the target namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_migration_service_account: Option<String>,
    /// Global default Go template for generating PVC names during OpenShift (OCP) migrations.
    #[schemars(regex(pattern = NO_TEMPLATE))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_ocp_pvc_name_template: Option<String>,
    /// Enable oVirt warm migration.
    #[schemars(extend("default" = "true"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_ovirt_warm_migration: Option<BoolString>,
    /// Precopy interval in minutes.
    #[schemars(extend("minimum" = 1))]
    #[schemars(extend("default" = 60))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_precopy_interval: Option<i32>,
    /// Global default Go template for generating PVC names during non-OCP migrations.
    #[schemars(regex(pattern = NO_TEMPLATE))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_pvc_name_template: Option<String>,
    /// Retain populator pods after migration for debugging.
    #[schemars(extend("default" = "false"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_retain_populator_pods: Option<BoolString>,
    /// Retain precopy pods.
    #[schemars(extend("default" = "false"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_retain_precopy_importer_pods: Option<BoolString>,
    /// Snapshot removal retries.
    #[schemars(extend("minimum" = 1))]
    #[schemars(extend("default" = 20))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_snapshot_removal_check_retries: Option<i32>,
    /// Snapshot removal timeout in minutes.
    #[schemars(extend("minimum" = 1))]
    #[schemars(extend("default" = 120))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_snapshot_removal_timeout_minuts: Option<i32>,
    /// Snapshot status check rate in seconds.
    #[schemars(extend("minimum" = 1))]
    #[schemars(extend("default" = 10))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_snapshot_status_check_rate_seconds: Option<i32>,
    /// Enable static UDN IP addresses feature.
    #[schemars(extend("default" = "true"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_static_udn_ip_addresses: Option<BoolString>,
    /// TLS connection timeout seconds.
    #[schemars(extend("minimum" = 1))]
    #[schemars(extend("default" = 5))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_tls_connection_timeout_sec: Option<i32>,
    /// Optional NAD name for controller pod transfer network (format: 'namespace/network-name').
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_transfer_network: Option<String>,
    /// VDDK job timeout in seconds.
    #[schemars(extend("minimum" = 1))]
    #[schemars(extend("default" = 300))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_vddk_job_active_deadline_sec: Option<i32>,
    /// Use vSphere incremental backup.
    #[schemars(extend("default" = "true"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_vsphere_incremental_backup: Option<BoolString>,
    /// Timeout in seconds for the wait-for-reboot step.
    #[schemars(extend("minimum" = 1))]
    #[schemars(extend("default" = 1800))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller_windows_reboot_timeout: Option<i32>,
    /// Deep inspection image. Optional. If left empty, the operator automatically sets this from the release payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deep_inspection_image_fqin: Option<String>,
    /// Deep inspection XFS image. Optional. If left empty, the operator automatically sets this from the release payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deep_inspection_image_xfs_fqin: Option<String>,
    /// Require authentication.
    #[schemars(extend("default" = "true"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_auth_required: Option<BoolString>,
    /// Enable CLI download service.
    #[schemars(extend("default" = "true"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_cli_download: Option<BoolString>,
    /// Enable copy offload plugins.
    #[schemars(extend("default" = "true"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_copy_offload: Option<BoolString>,
    /// Enable MCP server deployment (requires OpenShift with Lightspeed).
    #[schemars(extend("default" = "false"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_mcp_server: Option<BoolString>,
    /// Enable OCP live migration.
    #[schemars(extend("default" = "true"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_ocp_live_migration: Option<BoolString>,
    /// Enable OVF-based appliance management endpoints (OVA, HyperV).
    #[schemars(extend("default" = "true"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_ova_appliance_management: Option<BoolString>,
    /// Enable UI plugin.
    #[schemars(extend("default" = "true"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_ui_plugin: Option<BoolString>,
    /// Delegate VM conversion to Conversion CRs instead of managing it directly.
    #[schemars(extend("default" = "true"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_use_conversion_cr: Option<BoolString>,
    /// Enable validation service.
    #[schemars(extend("default" = "true"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_validation: Option<BoolString>,
    /// Use VMware system serial numbers.
    #[schemars(extend("default" = "true"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_vmware_system_serial_number: Option<BoolString>,
    /// Enable volume populators.
    #[schemars(extend("default" = "true"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_volume_populator: Option<BoolString>,
    /// Run VMware driver removal scripts during Windows vSphere conversion.
    #[schemars(extend("default" = "false"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_vsphere_vmware_driver_removal: Option<BoolString>,
    /// Use registry-based network configuration scripts for Windows static IP setup.
    #[schemars(extend("default" = "false"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_windows_registry_network_config: Option<BoolString>,
    /// Enable automatic wait-for-reboot step for Windows VM migrations.
    #[schemars(extend("default" = "true"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_windows_wait_for_reboot: Option<BoolString>,
    /// Ignore xfs_repair exit status during conversion.
    #[schemars(extend("default" = "false"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature_xfs_repair_ignore: Option<BoolString>,
    /// Hooks CPU limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "1000m"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks_container_limits_cpu: Option<String>,
    /// Hooks memory limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "1Gi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks_container_limits_memory: Option<String>,
    /// Hooks CPU request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "100m"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks_container_requests_cpu: Option<String>,
    /// Hooks memory request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "150Mi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hooks_container_requests_memory: Option<String>,
    /// HyperV CPU limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "1000m"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hyperv_container_limits_cpu: Option<String>,
    /// HyperV memory limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "1Gi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hyperv_container_limits_memory: Option<String>,
    /// HyperV CPU request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "100m"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hyperv_container_requests_cpu: Option<String>,
    /// HyperV memory request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "512Mi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hyperv_container_requests_memory: Option<String>,
    /// HyperV provider server image. Optional. If left empty, the operator automatically sets this from the release payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hyperv_provider_server_fqin: Option<String>,
    /// Image pull policy.
    #[schemars(extend("default" = "Always"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<PullPolicy>,
    /// Inventory CPU limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "2"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory_container_limits_cpu: Option<String>,
    /// Inventory memory limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "1Gi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory_container_limits_memory: Option<String>,
    /// Inventory CPU request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "500m"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory_container_requests_cpu: Option<String>,
    /// Inventory memory request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "500Mi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory_container_requests_memory: Option<String>,
    /// Inventory route timeout.
    #[schemars(regex(pattern = DURATION))]
    #[schemars(extend("default" = "360s"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory_route_timeout: Option<String>,
    /// Whether running on Kubernetes (vs OpenShift).
    #[schemars(extend("default" = "false"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k8s_cluster: Option<BoolString>,
    /// MCP server CPU limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "1000m"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_server_container_limits_cpu: Option<String>,
    /// MCP server memory limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "512Mi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_server_container_limits_memory: Option<String>,
    /// MCP server CPU request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "100m"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_server_container_requests_cpu: Option<String>,
    /// MCP server memory request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "256Mi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_server_container_requests_memory: Option<String>,
    /// Skip TLS verification for in-cluster MCP calls.
    #[schemars(extend("default" = "true"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_server_kube_insecure: Option<BoolString>,
    /// Register MCP server with OpenShift Lightspeed.
    #[schemars(extend("default" = "true"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_server_lightspeed_integration: Option<BoolString>,
    /// Add MCPServer to OLSConfig featureGates when registering with Lightspeed.
    #[schemars(extend("default" = "false"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_server_lightspeed_set_mcp_gate: Option<BoolString>,
    /// MCP server max response chars, 0 for unlimited.
    #[schemars(extend("minimum" = 0))]
    #[schemars(extend("default" = 0))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_server_max_response_chars: Option<i32>,
    /// MCP server output format.
    #[schemars(extend("default" = "markdown"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_server_output_format: Option<McpOutputFormat>,
    /// Run MCP server in read-only mode.
    #[schemars(extend("default" = "false"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_server_read_only: Option<BoolString>,
    /// MCP server verbosity level.
    #[schemars(extend("minimum" = 0))]
    #[schemars(extend("default" = 2))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_server_verbose: Option<i32>,
    /// Metrics scrape interval.
    #[schemars(regex(pattern = DURATION))]
    #[schemars(extend("default" = "30s"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_interval: Option<String>,
    /// Must-gather debugging image. Optional. If left empty, the operator automatically sets this from the release payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub must_gather_image_fqin: Option<String>,
    /// ConfigMap name for custom NAA OUI to storage vendor mappings.
    #[schemars(extend("default" = "forklift-naa-oui-map"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub naa_oui_map_configmap_name: Option<String>,
    /// OVA CPU limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "1000m"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ova_container_limits_cpu: Option<String>,
    /// OVA memory limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "1Gi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ova_container_limits_memory: Option<String>,
    /// OVA CPU request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "100m"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ova_container_requests_cpu: Option<String>,
    /// OVA memory request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "512Mi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ova_container_requests_memory: Option<String>,
    /// OVA provider server image. Optional. If left empty, the operator automatically sets this from the release payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ova_provider_server_fqin: Option<String>,
    /// OVA Proxy CPU limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "1000m"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ova_proxy_container_limits_cpu: Option<String>,
    /// OVA Proxy memory limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "1Gi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ova_proxy_container_limits_memory: Option<String>,
    /// OVA Proxy CPU request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "250m"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ova_proxy_container_requests_cpu: Option<String>,
    /// OVA Proxy memory request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "512Mi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ova_proxy_container_requests_memory: Option<String>,
    /// OVA inventory proxy image. Optional. If left empty, the operator automatically sets this from the release payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ova_proxy_fqin: Option<String>,
    /// OVA Proxy route timeout.
    #[schemars(regex(pattern = DURATION))]
    #[schemars(extend("default" = "360s"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ova_proxy_route_timeout: Option<String>,
    /// ConfigMap name for oVirt OS mappings.
    #[schemars(extend("default" = "forklift-ovirt-osmap"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ovirt_osmap_configmap_name: Option<String>,
    /// Volume Populator CPU limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "1000m"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub populator_container_limits_cpu: Option<String>,
    /// Volume Populator memory limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "1Gi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub populator_container_limits_memory: Option<String>,
    /// Volume Populator CPU request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "100m"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub populator_container_requests_cpu: Option<String>,
    /// Volume Populator memory request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "512Mi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub populator_container_requests_memory: Option<String>,
    /// Volume populator controller image. Optional. If left empty, the operator automatically sets this from the release payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub populator_controller_image_fqin: Option<String>,
    /// OpenStack populator image. Optional. If left empty, the operator automatically sets this from the release payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub populator_openstack_image_fqin: Option<String>,
    /// oVirt populator image. Optional. If left empty, the operator automatically sets this from the release payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub populator_ovirt_image_fqin: Option<String>,
    /// vSphere xcopy populator image. Optional. If left empty, the operator automatically sets this from the release payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub populator_vsphere_copy_offload_image_fqin: Option<String>,
    /// UI plugin CPU limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "100m"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui_plugin_container_limits_cpu: Option<String>,
    /// UI plugin memory limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "800Mi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui_plugin_container_limits_memory: Option<String>,
    /// UI plugin CPU request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "100m"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui_plugin_container_requests_cpu: Option<String>,
    /// UI plugin memory request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "150Mi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui_plugin_container_requests_memory: Option<String>,
    /// UI plugin image. Optional. If left empty, the operator automatically sets this from the release payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui_plugin_image_fqin: Option<String>,
    /// Validation CPU limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "1000m"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_container_limits_cpu: Option<String>,
    /// Validation memory limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "300Mi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_container_limits_memory: Option<String>,
    /// Validation CPU request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "400m"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_container_requests_cpu: Option<String>,
    /// Validation memory request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "50Mi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_container_requests_memory: Option<String>,
    /// Mount path for extra validation rules.
    #[schemars(extend("default" = "/usr/share/opa/policies/extra"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_extra_volume_mountpath: Option<String>,
    /// Volume name for extra validation rules.
    #[schemars(extend("default" = "validation-extra-rules"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_extra_volume_name: Option<String>,
    /// Validation service image. Optional. If left empty, the operator automatically sets this from the release payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_image_fqin: Option<String>,
    /// Policy agent search interval in seconds.
    #[schemars(extend("minimum" = 1))]
    #[schemars(extend("default" = 120))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_policy_agent_search_interval: Option<i32>,
    /// VDDK image for VMware disk access. Optional. If left empty, no VDDK image is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vddk_image: Option<String>,
    /// ConfigMap name for virt-customize configuration.
    #[schemars(extend("default" = "forklift-virt-customize"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virt_customize_configmap_name: Option<String>,
    /// Virt-v2v CPU limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "4000m"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virt_v2v_container_limits_cpu: Option<String>,
    /// Virt-v2v memory limit.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "8Gi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virt_v2v_container_limits_memory: Option<String>,
    /// Virt-v2v CPU request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "1000m"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virt_v2v_container_requests_cpu: Option<String>,
    /// Virt-v2v memory request.
    #[schemars(regex(pattern = QUANTITY))]
    #[schemars(extend("default" = "1Gi"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virt_v2v_container_requests_memory: Option<String>,
    /// Don't request KVM for virt-v2v. Optional. If left empty, the operator automatically sets this from the environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virt_v2v_dont_request_kvm: Option<BoolString>,
    /// Additional arguments for virt-v2v conversion. Optional. If left empty, the operator automatically sets this from the environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virt_v2v_extra_args: Option<String>,
    /// ConfigMap name containing extra virt-v2v configuration. Optional. If left empty, the operator automatically sets this from the environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virt_v2v_extra_conf_config_map: Option<String>,
    /// Virt-v2v conversion image. Optional. If left empty, the operator automatically sets this from the release payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virt_v2v_image_fqin: Option<String>,
    /// Virt-v2v XFS conversion image. Optional. If left empty, the operator automatically sets this from the release payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virt_v2v_image_xfs_fqin: Option<String>,
    /// Additional arguments for virt-v2v-inspector. Optional. If left empty, the operator automatically sets this from the environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virt_v2v_inspector_extra_args: Option<String>,
    /// Memory (in MB) allocated for the virt-v2v conversion appliance.
    #[schemars(extend("minimum" = 1))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virt_v2v_memsize: Option<i32>,
    /// Number of virtual CPUs for the virt-v2v conversion appliance.
    #[schemars(extend("minimum" = 1))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virt_v2v_smp: Option<i32>,
    /// ConfigMap name for vSphere OS mappings.
    #[schemars(extend("default" = "forklift-vsphere-osmap"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vsphere_osmap_configmap_name: Option<String>,
    /// Wait for final snapshot removal and consolidation in a VMware warm migration.
    #[schemars(extend("default" = "true"))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_for_final_snapshot_consolidation: Option<BoolString>,
}
