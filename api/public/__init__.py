"""The public page for residents (``/public``): air quality now, carbon this month, the sensors."""
