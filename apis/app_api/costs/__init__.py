"""The caller's own usage (`/costs`) and the admins' cost analytics (`/admin/costs`)."""
