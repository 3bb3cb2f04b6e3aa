//! Effective values of the ForkliftController settings: the value set, or
//! Forklift's CRD default.

use super::{BoolString, ForkliftControllerSpec, McpOutputFormat, PullPolicy};

impl ForkliftControllerSpec {
    /// Fills every unset field that has a CRD default with that default
    /// (what the API server does on create).
    pub fn fill_defaults(&mut self) {
        self.aap_insecure_skip_verify
            .get_or_insert(BoolString::False);
        self.api_container_limits_cpu
            .get_or_insert_with(|| "1000m".to_owned());
        self.api_container_limits_memory
            .get_or_insert_with(|| "1Gi".to_owned());
        self.api_container_requests_cpu
            .get_or_insert_with(|| "100m".to_owned());
        self.api_container_requests_memory
            .get_or_insert_with(|| "150Mi".to_owned());
        self.cli_download_container_limits_cpu
            .get_or_insert_with(|| "1000m".to_owned());
        self.cli_download_container_limits_memory
            .get_or_insert_with(|| "1Gi".to_owned());
        self.cli_download_container_requests_cpu
            .get_or_insert_with(|| "100m".to_owned());
        self.cli_download_container_requests_memory
            .get_or_insert_with(|| "512Mi".to_owned());
        self.controller_block_overhead.get_or_insert(0);
        self.controller_blocker_grace_period_minutes
            .get_or_insert(5);
        self.controller_cleanup_retries.get_or_insert(10);
        self.controller_container_limits_cpu
            .get_or_insert_with(|| "2".to_owned());
        self.controller_container_limits_memory
            .get_or_insert_with(|| "800Mi".to_owned());
        self.controller_container_requests_cpu
            .get_or_insert_with(|| "100m".to_owned());
        self.controller_container_requests_memory
            .get_or_insert_with(|| "350Mi".to_owned());
        self.controller_filesystem_overhead.get_or_insert(10);
        self.controller_host_lease_duration_seconds
            .get_or_insert(10);
        self.controller_host_lease_namespace
            .get_or_insert_with(|| "openshift-mtv".to_owned());
        self.controller_hyperv_refresh_interval
            .get_or_insert_with(|| "10s".to_owned());
        self.controller_hyperv_validation_timeout
            .get_or_insert_with(|| "30s".to_owned());
        self.controller_log_level.get_or_insert(3);
        self.controller_max_concurrent_reconciles.get_or_insert(10);
        self.controller_max_parent_backing_retries.get_or_insert(10);
        self.controller_max_populator_inflight.get_or_insert(20);
        self.controller_max_vm_inflight.get_or_insert(20);
        self.controller_ovirt_warm_migration
            .get_or_insert(BoolString::True);
        self.controller_precopy_interval.get_or_insert(60);
        self.controller_retain_populator_pods
            .get_or_insert(BoolString::False);
        self.controller_retain_precopy_importer_pods
            .get_or_insert(BoolString::False);
        self.controller_snapshot_removal_check_retries
            .get_or_insert(20);
        self.controller_snapshot_removal_timeout_minuts
            .get_or_insert(120);
        self.controller_snapshot_status_check_rate_seconds
            .get_or_insert(10);
        self.controller_static_udn_ip_addresses
            .get_or_insert(BoolString::True);
        self.controller_tls_connection_timeout_sec.get_or_insert(5);
        self.controller_vddk_job_active_deadline_sec
            .get_or_insert(300);
        self.controller_vsphere_incremental_backup
            .get_or_insert(BoolString::True);
        self.controller_windows_reboot_timeout.get_or_insert(1800);
        self.feature_auth_required.get_or_insert(BoolString::True);
        self.feature_cli_download.get_or_insert(BoolString::True);
        self.feature_copy_offload.get_or_insert(BoolString::True);
        self.feature_mcp_server.get_or_insert(BoolString::False);
        self.feature_ocp_live_migration
            .get_or_insert(BoolString::True);
        self.feature_ova_appliance_management
            .get_or_insert(BoolString::True);
        self.feature_ui_plugin.get_or_insert(BoolString::True);
        self.feature_use_conversion_cr
            .get_or_insert(BoolString::True);
        self.feature_validation.get_or_insert(BoolString::True);
        self.feature_vmware_system_serial_number
            .get_or_insert(BoolString::True);
        self.feature_volume_populator
            .get_or_insert(BoolString::True);
        self.feature_vsphere_vmware_driver_removal
            .get_or_insert(BoolString::False);
        self.feature_windows_registry_network_config
            .get_or_insert(BoolString::False);
        self.feature_windows_wait_for_reboot
            .get_or_insert(BoolString::True);
        self.feature_xfs_repair_ignore
            .get_or_insert(BoolString::False);
        self.hooks_container_limits_cpu
            .get_or_insert_with(|| "1000m".to_owned());
        self.hooks_container_limits_memory
            .get_or_insert_with(|| "1Gi".to_owned());
        self.hooks_container_requests_cpu
            .get_or_insert_with(|| "100m".to_owned());
        self.hooks_container_requests_memory
            .get_or_insert_with(|| "150Mi".to_owned());
        self.hyperv_container_limits_cpu
            .get_or_insert_with(|| "1000m".to_owned());
        self.hyperv_container_limits_memory
            .get_or_insert_with(|| "1Gi".to_owned());
        self.hyperv_container_requests_cpu
            .get_or_insert_with(|| "100m".to_owned());
        self.hyperv_container_requests_memory
            .get_or_insert_with(|| "512Mi".to_owned());
        self.image_pull_policy.get_or_insert(PullPolicy::Always);
        self.inventory_container_limits_cpu
            .get_or_insert_with(|| "2".to_owned());
        self.inventory_container_limits_memory
            .get_or_insert_with(|| "1Gi".to_owned());
        self.inventory_container_requests_cpu
            .get_or_insert_with(|| "500m".to_owned());
        self.inventory_container_requests_memory
            .get_or_insert_with(|| "500Mi".to_owned());
        self.inventory_route_timeout
            .get_or_insert_with(|| "360s".to_owned());
        self.k8s_cluster.get_or_insert(BoolString::False);
        self.mcp_server_container_limits_cpu
            .get_or_insert_with(|| "1000m".to_owned());
        self.mcp_server_container_limits_memory
            .get_or_insert_with(|| "512Mi".to_owned());
        self.mcp_server_container_requests_cpu
            .get_or_insert_with(|| "100m".to_owned());
        self.mcp_server_container_requests_memory
            .get_or_insert_with(|| "256Mi".to_owned());
        self.mcp_server_kube_insecure
            .get_or_insert(BoolString::True);
        self.mcp_server_lightspeed_integration
            .get_or_insert(BoolString::True);
        self.mcp_server_lightspeed_set_mcp_gate
            .get_or_insert(BoolString::False);
        self.mcp_server_max_response_chars.get_or_insert(0);
        self.mcp_server_output_format
            .get_or_insert(McpOutputFormat::Markdown);
        self.mcp_server_read_only.get_or_insert(BoolString::False);
        self.mcp_server_verbose.get_or_insert(2);
        self.metric_interval.get_or_insert_with(|| "30s".to_owned());
        self.naa_oui_map_configmap_name
            .get_or_insert_with(|| "forklift-naa-oui-map".to_owned());
        self.ova_container_limits_cpu
            .get_or_insert_with(|| "1000m".to_owned());
        self.ova_container_limits_memory
            .get_or_insert_with(|| "1Gi".to_owned());
        self.ova_container_requests_cpu
            .get_or_insert_with(|| "100m".to_owned());
        self.ova_container_requests_memory
            .get_or_insert_with(|| "512Mi".to_owned());
        self.ova_proxy_container_limits_cpu
            .get_or_insert_with(|| "1000m".to_owned());
        self.ova_proxy_container_limits_memory
            .get_or_insert_with(|| "1Gi".to_owned());
        self.ova_proxy_container_requests_cpu
            .get_or_insert_with(|| "250m".to_owned());
        self.ova_proxy_container_requests_memory
            .get_or_insert_with(|| "512Mi".to_owned());
        self.ova_proxy_route_timeout
            .get_or_insert_with(|| "360s".to_owned());
        self.ovirt_osmap_configmap_name
            .get_or_insert_with(|| "forklift-ovirt-osmap".to_owned());
        self.populator_container_limits_cpu
            .get_or_insert_with(|| "1000m".to_owned());
        self.populator_container_limits_memory
            .get_or_insert_with(|| "1Gi".to_owned());
        self.populator_container_requests_cpu
            .get_or_insert_with(|| "100m".to_owned());
        self.populator_container_requests_memory
            .get_or_insert_with(|| "512Mi".to_owned());
        self.ui_plugin_container_limits_cpu
            .get_or_insert_with(|| "100m".to_owned());
        self.ui_plugin_container_limits_memory
            .get_or_insert_with(|| "800Mi".to_owned());
        self.ui_plugin_container_requests_cpu
            .get_or_insert_with(|| "100m".to_owned());
        self.ui_plugin_container_requests_memory
            .get_or_insert_with(|| "150Mi".to_owned());
        self.validation_container_limits_cpu
            .get_or_insert_with(|| "1000m".to_owned());
        self.validation_container_limits_memory
            .get_or_insert_with(|| "300Mi".to_owned());
        self.validation_container_requests_cpu
            .get_or_insert_with(|| "400m".to_owned());
        self.validation_container_requests_memory
            .get_or_insert_with(|| "50Mi".to_owned());
        self.validation_extra_volume_mountpath
            .get_or_insert_with(|| "/usr/share/opa/policies/extra".to_owned());
        self.validation_extra_volume_name
            .get_or_insert_with(|| "validation-extra-rules".to_owned());
        self.validation_policy_agent_search_interval
            .get_or_insert(120);
        self.virt_customize_configmap_name
            .get_or_insert_with(|| "forklift-virt-customize".to_owned());
        self.virt_v2v_container_limits_cpu
            .get_or_insert_with(|| "4000m".to_owned());
        self.virt_v2v_container_limits_memory
            .get_or_insert_with(|| "8Gi".to_owned());
        self.virt_v2v_container_requests_cpu
            .get_or_insert_with(|| "1000m".to_owned());
        self.virt_v2v_container_requests_memory
            .get_or_insert_with(|| "1Gi".to_owned());
        self.vsphere_osmap_configmap_name
            .get_or_insert_with(|| "forklift-vsphere-osmap".to_owned());
        self.wait_for_final_snapshot_consolidation
            .get_or_insert(BoolString::True);
    }

    /// This spec with every CRD default filled in.
    pub fn with_defaults(mut self) -> Self {
        self.fill_defaults();
        self
    }
}
