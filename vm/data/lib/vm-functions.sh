# vm's shell library, loaded into `vm sh` shells and vm scripts (VM_FUNCTIONS):
# the original's functions.sh and functions-net.sh, from VM_LIB, which vm
# exports. Scripts written for the original may still load either file
# themselves (". $VM_LIB/functions-net.sh"): loading one again is harmless.
. "${VM_LIB:?must name the directory of the vm shell library}/functions.sh"
. "$VM_LIB/functions-net.sh"
