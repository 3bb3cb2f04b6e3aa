//! Typed getters: each setting's value, or Forklift's CRD default when unset.

use super::{BoolString, ForkliftControllerSpec, McpOutputFormat, PullPolicy};

impl ForkliftControllerSpec {
    /// `aap_insecure_skip_verify`, or its CRD default `false`.
    pub fn aap_insecure_skip_verify(&self) -> bool {
        self.aap_insecure_skip_verify
            .unwrap_or(BoolString::False)
            .as_bool()
    }
    /// `api_container_limits_cpu`, or its CRD default `1000m`.
    pub fn api_container_limits_cpu(&self) -> &str {
        self.api_container_limits_cpu.as_deref().unwrap_or("1000m")
    }
    /// `api_container_limits_memory`, or its CRD default `1Gi`.
    pub fn api_container_limits_memory(&self) -> &str {
        self.api_container_limits_memory.as_deref().unwrap_or("1Gi")
    }
    /// `api_container_requests_cpu`, or its CRD default `100m`.
    pub fn api_container_requests_cpu(&self) -> &str {
        self.api_container_requests_cpu.as_deref().unwrap_or("100m")
    }
    /// `api_container_requests_memory`, or its CRD default `150Mi`.
    pub fn api_container_requests_memory(&self) -> &str {
        self.api_container_requests_memory
            .as_deref()
            .unwrap_or("150Mi")
    }
    /// `cli_download_container_limits_cpu`, or its CRD default `1000m`.
    pub fn cli_download_container_limits_cpu(&self) -> &str {
        self.cli_download_container_limits_cpu
            .as_deref()
            .unwrap_or("1000m")
    }
    /// `cli_download_container_limits_memory`, or its CRD default `1Gi`.
    pub fn cli_download_container_limits_memory(&self) -> &str {
        self.cli_download_container_limits_memory
            .as_deref()
            .unwrap_or("1Gi")
    }
    /// `cli_download_container_requests_cpu`, or its CRD default `100m`.
    pub fn cli_download_container_requests_cpu(&self) -> &str {
        self.cli_download_container_requests_cpu
            .as_deref()
            .unwrap_or("100m")
    }
    /// `cli_download_container_requests_memory`, or its CRD default `512Mi`.
    pub fn cli_download_container_requests_memory(&self) -> &str {
        self.cli_download_container_requests_memory
            .as_deref()
            .unwrap_or("512Mi")
    }
    /// `controller_block_overhead`, or its CRD default `0`.
    pub fn controller_block_overhead(&self) -> i32 {
        self.controller_block_overhead.unwrap_or(0)
    }
    /// `controller_blocker_grace_period_minutes`, or its CRD default `5`.
    pub fn controller_blocker_grace_period_minutes(&self) -> i32 {
        self.controller_blocker_grace_period_minutes.unwrap_or(5)
    }
    /// `controller_cleanup_retries`, or its CRD default `10`.
    pub fn controller_cleanup_retries(&self) -> i32 {
        self.controller_cleanup_retries.unwrap_or(10)
    }
    /// `controller_container_limits_cpu`, or its CRD default `2`.
    pub fn controller_container_limits_cpu(&self) -> &str {
        self.controller_container_limits_cpu
            .as_deref()
            .unwrap_or("2")
    }
    /// `controller_container_limits_memory`, or its CRD default `800Mi`.
    pub fn controller_container_limits_memory(&self) -> &str {
        self.controller_container_limits_memory
            .as_deref()
            .unwrap_or("800Mi")
    }
    /// `controller_container_requests_cpu`, or its CRD default `100m`.
    pub fn controller_container_requests_cpu(&self) -> &str {
        self.controller_container_requests_cpu
            .as_deref()
            .unwrap_or("100m")
    }
    /// `controller_container_requests_memory`, or its CRD default `350Mi`.
    pub fn controller_container_requests_memory(&self) -> &str {
        self.controller_container_requests_memory
            .as_deref()
            .unwrap_or("350Mi")
    }
    /// `controller_filesystem_overhead`, or its CRD default `10`.
    pub fn controller_filesystem_overhead(&self) -> i32 {
        self.controller_filesystem_overhead.unwrap_or(10)
    }
    /// `controller_host_lease_duration_seconds`, or its CRD default `10`.
    pub fn controller_host_lease_duration_seconds(&self) -> i32 {
        self.controller_host_lease_duration_seconds.unwrap_or(10)
    }
    /// `controller_host_lease_namespace`, or its CRD default `openshift-mtv`.
    pub fn controller_host_lease_namespace(&self) -> &str {
        self.controller_host_lease_namespace
            .as_deref()
            .unwrap_or("openshift-mtv")
    }
    /// `controller_hyperv_refresh_interval`, or its CRD default `10s`.
    pub fn controller_hyperv_refresh_interval(&self) -> &str {
        self.controller_hyperv_refresh_interval
            .as_deref()
            .unwrap_or("10s")
    }
    /// `controller_hyperv_validation_timeout`, or its CRD default `30s`.
    pub fn controller_hyperv_validation_timeout(&self) -> &str {
        self.controller_hyperv_validation_timeout
            .as_deref()
            .unwrap_or("30s")
    }
    /// `controller_log_level`, or its CRD default `3`.
    pub fn controller_log_level(&self) -> i32 {
        self.controller_log_level.unwrap_or(3)
    }
    /// `controller_max_concurrent_reconciles`, or its CRD default `10`.
    pub fn controller_max_concurrent_reconciles(&self) -> i32 {
        self.controller_max_concurrent_reconciles.unwrap_or(10)
    }
    /// `controller_max_parent_backing_retries`, or its CRD default `10`.
    pub fn controller_max_parent_backing_retries(&self) -> i32 {
        self.controller_max_parent_backing_retries.unwrap_or(10)
    }
    /// `controller_max_populator_inflight`, or its CRD default `20`.
    pub fn controller_max_populator_inflight(&self) -> i32 {
        self.controller_max_populator_inflight.unwrap_or(20)
    }
    /// `controller_max_vm_inflight`, or its CRD default `20`.
    pub fn controller_max_vm_inflight(&self) -> i32 {
        self.controller_max_vm_inflight.unwrap_or(20)
    }
    /// `controller_ovirt_warm_migration`, or its CRD default `true`.
    pub fn controller_ovirt_warm_migration(&self) -> bool {
        self.controller_ovirt_warm_migration
            .unwrap_or(BoolString::True)
            .as_bool()
    }
    /// `controller_precopy_interval`, or its CRD default `60`.
    pub fn controller_precopy_interval(&self) -> i32 {
        self.controller_precopy_interval.unwrap_or(60)
    }
    /// `controller_retain_populator_pods`, or its CRD default `false`.
    pub fn controller_retain_populator_pods(&self) -> bool {
        self.controller_retain_populator_pods
            .unwrap_or(BoolString::False)
            .as_bool()
    }
    /// `controller_retain_precopy_importer_pods`, or its CRD default `false`.
    pub fn controller_retain_precopy_importer_pods(&self) -> bool {
        self.controller_retain_precopy_importer_pods
            .unwrap_or(BoolString::False)
            .as_bool()
    }
    /// `controller_snapshot_removal_check_retries`, or its CRD default `20`.
    pub fn controller_snapshot_removal_check_retries(&self) -> i32 {
        self.controller_snapshot_removal_check_retries.unwrap_or(20)
    }
    /// `controller_snapshot_removal_timeout_minuts`, or its CRD default `120`.
    pub fn controller_snapshot_removal_timeout_minuts(&self) -> i32 {
        self.controller_snapshot_removal_timeout_minuts
            .unwrap_or(120)
    }
    /// `controller_snapshot_status_check_rate_seconds`, or its CRD default `10`.
    pub fn controller_snapshot_status_check_rate_seconds(&self) -> i32 {
        self.controller_snapshot_status_check_rate_seconds
            .unwrap_or(10)
    }
    /// `controller_static_udn_ip_addresses`, or its CRD default `true`.
    pub fn controller_static_udn_ip_addresses(&self) -> bool {
        self.controller_static_udn_ip_addresses
            .unwrap_or(BoolString::True)
            .as_bool()
    }
    /// `controller_tls_connection_timeout_sec`, or its CRD default `5`.
    pub fn controller_tls_connection_timeout_sec(&self) -> i32 {
        self.controller_tls_connection_timeout_sec.unwrap_or(5)
    }
    /// `controller_vddk_job_active_deadline_sec`, or its CRD default `300`.
    pub fn controller_vddk_job_active_deadline_sec(&self) -> i32 {
        self.controller_vddk_job_active_deadline_sec.unwrap_or(300)
    }
    /// `controller_vsphere_incremental_backup`, or its CRD default `true`.
    pub fn controller_vsphere_incremental_backup(&self) -> bool {
        self.controller_vsphere_incremental_backup
            .unwrap_or(BoolString::True)
            .as_bool()
    }
    /// `controller_windows_reboot_timeout`, or its CRD default `1800`.
    pub fn controller_windows_reboot_timeout(&self) -> i32 {
        self.controller_windows_reboot_timeout.unwrap_or(1800)
    }
    /// `feature_auth_required`, or its CRD default `true`.
    pub fn feature_auth_required(&self) -> bool {
        self.feature_auth_required
            .unwrap_or(BoolString::True)
            .as_bool()
    }
    /// `feature_cli_download`, or its CRD default `true`.
    pub fn feature_cli_download(&self) -> bool {
        self.feature_cli_download
            .unwrap_or(BoolString::True)
            .as_bool()
    }
    /// `feature_copy_offload`, or its CRD default `true`.
    pub fn feature_copy_offload(&self) -> bool {
        self.feature_copy_offload
            .unwrap_or(BoolString::True)
            .as_bool()
    }
    /// `feature_mcp_server`, or its CRD default `false`.
    pub fn feature_mcp_server(&self) -> bool {
        self.feature_mcp_server
            .unwrap_or(BoolString::False)
            .as_bool()
    }
    /// `feature_ocp_live_migration`, or its CRD default `true`.
    pub fn feature_ocp_live_migration(&self) -> bool {
        self.feature_ocp_live_migration
            .unwrap_or(BoolString::True)
            .as_bool()
    }
    /// `feature_ova_appliance_management`, or its CRD default `true`.
    pub fn feature_ova_appliance_management(&self) -> bool {
        self.feature_ova_appliance_management
            .unwrap_or(BoolString::True)
            .as_bool()
    }
    /// `feature_ui_plugin`, or its CRD default `true`.
    pub fn feature_ui_plugin(&self) -> bool {
        self.feature_ui_plugin.unwrap_or(BoolString::True).as_bool()
    }
    /// `feature_use_conversion_cr`, or its CRD default `true`.
    pub fn feature_use_conversion_cr(&self) -> bool {
        self.feature_use_conversion_cr
            .unwrap_or(BoolString::True)
            .as_bool()
    }
    /// `feature_validation`, or its CRD default `true`.
    pub fn feature_validation(&self) -> bool {
        self.feature_validation
            .unwrap_or(BoolString::True)
            .as_bool()
    }
    /// `feature_vmware_system_serial_number`, or its CRD default `true`.
    pub fn feature_vmware_system_serial_number(&self) -> bool {
        self.feature_vmware_system_serial_number
            .unwrap_or(BoolString::True)
            .as_bool()
    }
    /// `feature_volume_populator`, or its CRD default `true`.
    pub fn feature_volume_populator(&self) -> bool {
        self.feature_volume_populator
            .unwrap_or(BoolString::True)
            .as_bool()
    }
    /// `feature_vsphere_vmware_driver_removal`, or its CRD default `false`.
    pub fn feature_vsphere_vmware_driver_removal(&self) -> bool {
        self.feature_vsphere_vmware_driver_removal
            .unwrap_or(BoolString::False)
            .as_bool()
    }
    /// `feature_windows_registry_network_config`, or its CRD default `false`.
    pub fn feature_windows_registry_network_config(&self) -> bool {
        self.feature_windows_registry_network_config
            .unwrap_or(BoolString::False)
            .as_bool()
    }
    /// `feature_windows_wait_for_reboot`, or its CRD default `true`.
    pub fn feature_windows_wait_for_reboot(&self) -> bool {
        self.feature_windows_wait_for_reboot
            .unwrap_or(BoolString::True)
            .as_bool()
    }
    /// `feature_xfs_repair_ignore`, or its CRD default `false`.
    pub fn feature_xfs_repair_ignore(&self) -> bool {
        self.feature_xfs_repair_ignore
            .unwrap_or(BoolString::False)
            .as_bool()
    }
    /// `hooks_container_limits_cpu`, or its CRD default `1000m`.
    pub fn hooks_container_limits_cpu(&self) -> &str {
        self.hooks_container_limits_cpu
            .as_deref()
            .unwrap_or("1000m")
    }
    /// `hooks_container_limits_memory`, or its CRD default `1Gi`.
    pub fn hooks_container_limits_memory(&self) -> &str {
        self.hooks_container_limits_memory
            .as_deref()
            .unwrap_or("1Gi")
    }
    /// `hooks_container_requests_cpu`, or its CRD default `100m`.
    pub fn hooks_container_requests_cpu(&self) -> &str {
        self.hooks_container_requests_cpu
            .as_deref()
            .unwrap_or("100m")
    }
    /// `hooks_container_requests_memory`, or its CRD default `150Mi`.
    pub fn hooks_container_requests_memory(&self) -> &str {
        self.hooks_container_requests_memory
            .as_deref()
            .unwrap_or("150Mi")
    }
    /// `hyperv_container_limits_cpu`, or its CRD default `1000m`.
    pub fn hyperv_container_limits_cpu(&self) -> &str {
        self.hyperv_container_limits_cpu
            .as_deref()
            .unwrap_or("1000m")
    }
    /// `hyperv_container_limits_memory`, or its CRD default `1Gi`.
    pub fn hyperv_container_limits_memory(&self) -> &str {
        self.hyperv_container_limits_memory
            .as_deref()
            .unwrap_or("1Gi")
    }
    /// `hyperv_container_requests_cpu`, or its CRD default `100m`.
    pub fn hyperv_container_requests_cpu(&self) -> &str {
        self.hyperv_container_requests_cpu
            .as_deref()
            .unwrap_or("100m")
    }
    /// `hyperv_container_requests_memory`, or its CRD default `512Mi`.
    pub fn hyperv_container_requests_memory(&self) -> &str {
        self.hyperv_container_requests_memory
            .as_deref()
            .unwrap_or("512Mi")
    }
    /// `image_pull_policy`, or its CRD default `Always`.
    pub fn image_pull_policy(&self) -> PullPolicy {
        self.image_pull_policy.unwrap_or(PullPolicy::Always)
    }
    /// `inventory_container_limits_cpu`, or its CRD default `2`.
    pub fn inventory_container_limits_cpu(&self) -> &str {
        self.inventory_container_limits_cpu
            .as_deref()
            .unwrap_or("2")
    }
    /// `inventory_container_limits_memory`, or its CRD default `1Gi`.
    pub fn inventory_container_limits_memory(&self) -> &str {
        self.inventory_container_limits_memory
            .as_deref()
            .unwrap_or("1Gi")
    }
    /// `inventory_container_requests_cpu`, or its CRD default `500m`.
    pub fn inventory_container_requests_cpu(&self) -> &str {
        self.inventory_container_requests_cpu
            .as_deref()
            .unwrap_or("500m")
    }
    /// `inventory_container_requests_memory`, or its CRD default `500Mi`.
    pub fn inventory_container_requests_memory(&self) -> &str {
        self.inventory_container_requests_memory
            .as_deref()
            .unwrap_or("500Mi")
    }
    /// `inventory_route_timeout`, or its CRD default `360s`.
    pub fn inventory_route_timeout(&self) -> &str {
        self.inventory_route_timeout.as_deref().unwrap_or("360s")
    }
    /// `k8s_cluster`, or its CRD default `false`.
    pub fn k8s_cluster(&self) -> bool {
        self.k8s_cluster.unwrap_or(BoolString::False).as_bool()
    }
    /// `mcp_server_container_limits_cpu`, or its CRD default `1000m`.
    pub fn mcp_server_container_limits_cpu(&self) -> &str {
        self.mcp_server_container_limits_cpu
            .as_deref()
            .unwrap_or("1000m")
    }
    /// `mcp_server_container_limits_memory`, or its CRD default `512Mi`.
    pub fn mcp_server_container_limits_memory(&self) -> &str {
        self.mcp_server_container_limits_memory
            .as_deref()
            .unwrap_or("512Mi")
    }
    /// `mcp_server_container_requests_cpu`, or its CRD default `100m`.
    pub fn mcp_server_container_requests_cpu(&self) -> &str {
        self.mcp_server_container_requests_cpu
            .as_deref()
            .unwrap_or("100m")
    }
    /// `mcp_server_container_requests_memory`, or its CRD default `256Mi`.
    pub fn mcp_server_container_requests_memory(&self) -> &str {
        self.mcp_server_container_requests_memory
            .as_deref()
            .unwrap_or("256Mi")
    }
    /// `mcp_server_kube_insecure`, or its CRD default `true`.
    pub fn mcp_server_kube_insecure(&self) -> bool {
        self.mcp_server_kube_insecure
            .unwrap_or(BoolString::True)
            .as_bool()
    }
    /// `mcp_server_lightspeed_integration`, or its CRD default `true`.
    pub fn mcp_server_lightspeed_integration(&self) -> bool {
        self.mcp_server_lightspeed_integration
            .unwrap_or(BoolString::True)
            .as_bool()
    }
    /// `mcp_server_lightspeed_set_mcp_gate`, or its CRD default `false`.
    pub fn mcp_server_lightspeed_set_mcp_gate(&self) -> bool {
        self.mcp_server_lightspeed_set_mcp_gate
            .unwrap_or(BoolString::False)
            .as_bool()
    }
    /// `mcp_server_max_response_chars`, or its CRD default `0`.
    pub fn mcp_server_max_response_chars(&self) -> i32 {
        self.mcp_server_max_response_chars.unwrap_or(0)
    }
    /// `mcp_server_output_format`, or its CRD default `markdown`.
    pub fn mcp_server_output_format(&self) -> McpOutputFormat {
        self.mcp_server_output_format
            .unwrap_or(McpOutputFormat::Markdown)
    }
    /// `mcp_server_read_only`, or its CRD default `false`.
    pub fn mcp_server_read_only(&self) -> bool {
        self.mcp_server_read_only
            .unwrap_or(BoolString::False)
            .as_bool()
    }
    /// `mcp_server_verbose`, or its CRD default `2`.
    pub fn mcp_server_verbose(&self) -> i32 {
        self.mcp_server_verbose.unwrap_or(2)
    }
    /// `metric_interval`, or its CRD default `30s`.
    pub fn metric_interval(&self) -> &str {
        self.metric_interval.as_deref().unwrap_or("30s")
    }
    /// `naa_oui_map_configmap_name`, or its CRD default `forklift-naa-oui-map`.
    pub fn naa_oui_map_configmap_name(&self) -> &str {
        self.naa_oui_map_configmap_name
            .as_deref()
            .unwrap_or("forklift-naa-oui-map")
    }
    /// `ova_container_limits_cpu`, or its CRD default `1000m`.
    pub fn ova_container_limits_cpu(&self) -> &str {
        self.ova_container_limits_cpu.as_deref().unwrap_or("1000m")
    }
    /// `ova_container_limits_memory`, or its CRD default `1Gi`.
    pub fn ova_container_limits_memory(&self) -> &str {
        self.ova_container_limits_memory.as_deref().unwrap_or("1Gi")
    }
    /// `ova_container_requests_cpu`, or its CRD default `100m`.
    pub fn ova_container_requests_cpu(&self) -> &str {
        self.ova_container_requests_cpu.as_deref().unwrap_or("100m")
    }
    /// `ova_container_requests_memory`, or its CRD default `512Mi`.
    pub fn ova_container_requests_memory(&self) -> &str {
        self.ova_container_requests_memory
            .as_deref()
            .unwrap_or("512Mi")
    }
    /// `ova_proxy_container_limits_cpu`, or its CRD default `1000m`.
    pub fn ova_proxy_container_limits_cpu(&self) -> &str {
        self.ova_proxy_container_limits_cpu
            .as_deref()
            .unwrap_or("1000m")
    }
    /// `ova_proxy_container_limits_memory`, or its CRD default `1Gi`.
    pub fn ova_proxy_container_limits_memory(&self) -> &str {
        self.ova_proxy_container_limits_memory
            .as_deref()
            .unwrap_or("1Gi")
    }
    /// `ova_proxy_container_requests_cpu`, or its CRD default `250m`.
    pub fn ova_proxy_container_requests_cpu(&self) -> &str {
        self.ova_proxy_container_requests_cpu
            .as_deref()
            .unwrap_or("250m")
    }
    /// `ova_proxy_container_requests_memory`, or its CRD default `512Mi`.
    pub fn ova_proxy_container_requests_memory(&self) -> &str {
        self.ova_proxy_container_requests_memory
            .as_deref()
            .unwrap_or("512Mi")
    }
    /// `ova_proxy_route_timeout`, or its CRD default `360s`.
    pub fn ova_proxy_route_timeout(&self) -> &str {
        self.ova_proxy_route_timeout.as_deref().unwrap_or("360s")
    }
    /// `ovirt_osmap_configmap_name`, or its CRD default `forklift-ovirt-osmap`.
    pub fn ovirt_osmap_configmap_name(&self) -> &str {
        self.ovirt_osmap_configmap_name
            .as_deref()
            .unwrap_or("forklift-ovirt-osmap")
    }
    /// `populator_container_limits_cpu`, or its CRD default `1000m`.
    pub fn populator_container_limits_cpu(&self) -> &str {
        self.populator_container_limits_cpu
            .as_deref()
            .unwrap_or("1000m")
    }
    /// `populator_container_limits_memory`, or its CRD default `1Gi`.
    pub fn populator_container_limits_memory(&self) -> &str {
        self.populator_container_limits_memory
            .as_deref()
            .unwrap_or("1Gi")
    }
    /// `populator_container_requests_cpu`, or its CRD default `100m`.
    pub fn populator_container_requests_cpu(&self) -> &str {
        self.populator_container_requests_cpu
            .as_deref()
            .unwrap_or("100m")
    }
    /// `populator_container_requests_memory`, or its CRD default `512Mi`.
    pub fn populator_container_requests_memory(&self) -> &str {
        self.populator_container_requests_memory
            .as_deref()
            .unwrap_or("512Mi")
    }
    /// `ui_plugin_container_limits_cpu`, or its CRD default `100m`.
    pub fn ui_plugin_container_limits_cpu(&self) -> &str {
        self.ui_plugin_container_limits_cpu
            .as_deref()
            .unwrap_or("100m")
    }
    /// `ui_plugin_container_limits_memory`, or its CRD default `800Mi`.
    pub fn ui_plugin_container_limits_memory(&self) -> &str {
        self.ui_plugin_container_limits_memory
            .as_deref()
            .unwrap_or("800Mi")
    }
    /// `ui_plugin_container_requests_cpu`, or its CRD default `100m`.
    pub fn ui_plugin_container_requests_cpu(&self) -> &str {
        self.ui_plugin_container_requests_cpu
            .as_deref()
            .unwrap_or("100m")
    }
    /// `ui_plugin_container_requests_memory`, or its CRD default `150Mi`.
    pub fn ui_plugin_container_requests_memory(&self) -> &str {
        self.ui_plugin_container_requests_memory
            .as_deref()
            .unwrap_or("150Mi")
    }
    /// `validation_container_limits_cpu`, or its CRD default `1000m`.
    pub fn validation_container_limits_cpu(&self) -> &str {
        self.validation_container_limits_cpu
            .as_deref()
            .unwrap_or("1000m")
    }
    /// `validation_container_limits_memory`, or its CRD default `300Mi`.
    pub fn validation_container_limits_memory(&self) -> &str {
        self.validation_container_limits_memory
            .as_deref()
            .unwrap_or("300Mi")
    }
    /// `validation_container_requests_cpu`, or its CRD default `400m`.
    pub fn validation_container_requests_cpu(&self) -> &str {
        self.validation_container_requests_cpu
            .as_deref()
            .unwrap_or("400m")
    }
    /// `validation_container_requests_memory`, or its CRD default `50Mi`.
    pub fn validation_container_requests_memory(&self) -> &str {
        self.validation_container_requests_memory
            .as_deref()
            .unwrap_or("50Mi")
    }
    /// `validation_extra_volume_mountpath`, or its CRD default `/usr/share/opa/policies/extra`.
    pub fn validation_extra_volume_mountpath(&self) -> &str {
        self.validation_extra_volume_mountpath
            .as_deref()
            .unwrap_or("/usr/share/opa/policies/extra")
    }
    /// `validation_extra_volume_name`, or its CRD default `validation-extra-rules`.
    pub fn validation_extra_volume_name(&self) -> &str {
        self.validation_extra_volume_name
            .as_deref()
            .unwrap_or("validation-extra-rules")
    }
    /// `validation_policy_agent_search_interval`, or its CRD default `120`.
    pub fn validation_policy_agent_search_interval(&self) -> i32 {
        self.validation_policy_agent_search_interval.unwrap_or(120)
    }
    /// `virt_customize_configmap_name`, or its CRD default `forklift-virt-customize`.
    pub fn virt_customize_configmap_name(&self) -> &str {
        self.virt_customize_configmap_name
            .as_deref()
            .unwrap_or("forklift-virt-customize")
    }
    /// `virt_v2v_container_limits_cpu`, or its CRD default `4000m`.
    pub fn virt_v2v_container_limits_cpu(&self) -> &str {
        self.virt_v2v_container_limits_cpu
            .as_deref()
            .unwrap_or("4000m")
    }
    /// `virt_v2v_container_limits_memory`, or its CRD default `8Gi`.
    pub fn virt_v2v_container_limits_memory(&self) -> &str {
        self.virt_v2v_container_limits_memory
            .as_deref()
            .unwrap_or("8Gi")
    }
    /// `virt_v2v_container_requests_cpu`, or its CRD default `1000m`.
    pub fn virt_v2v_container_requests_cpu(&self) -> &str {
        self.virt_v2v_container_requests_cpu
            .as_deref()
            .unwrap_or("1000m")
    }
    /// `virt_v2v_container_requests_memory`, or its CRD default `1Gi`.
    pub fn virt_v2v_container_requests_memory(&self) -> &str {
        self.virt_v2v_container_requests_memory
            .as_deref()
            .unwrap_or("1Gi")
    }
    /// `vsphere_osmap_configmap_name`, or its CRD default `forklift-vsphere-osmap`.
    pub fn vsphere_osmap_configmap_name(&self) -> &str {
        self.vsphere_osmap_configmap_name
            .as_deref()
            .unwrap_or("forklift-vsphere-osmap")
    }
    /// `wait_for_final_snapshot_consolidation`, or its CRD default `true`.
    pub fn wait_for_final_snapshot_consolidation(&self) -> bool {
        self.wait_for_final_snapshot_consolidation
            .unwrap_or(BoolString::True)
            .as_bool()
    }
}
